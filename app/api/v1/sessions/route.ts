import { runtime } from '@/lib/runtime';
import { HttpError, body, caller, handle, json, requireSameOrigin } from '@/lib/http/route';
import { StartBody } from '@/lib/http/api/requests';
import { rateLimit } from '@/lib/http/limits';
import { graderOf } from '@/lib/http/grader';
import { listForGrader, startForLearner } from '@/lib/http/grader-sessions';

export const dynamic = 'force-dynamic';

/**
 * POST /api/v1/sessions {lab} → 201 {id, status}. Creates the learner cookie if needed.
 * With a grader's token, {lab, learner} → 201 {id, status, learner, joinUrl, joinExpiresAt}, no cookie.
 * 429 (Retry-After) past the rate limits (lib/http/limits.ts); 409 `{error, code, session, sessions}`
 * naming the live session(s) past the caps on live sessions.
 */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    const grader = await graderOf(req);
    if (grader) return json(await startForLearner(req, grader, await body(req, StartBody)), { status: 201 });
    const who = caller(req, { create: true });
    // A learner created by this very request has no history: the per-address limit covers it.
    await rateLimit(req, 'create', who.newCookie ? undefined : who.learnerId);
    const { lab, challenge, learner } = await body(req, StartBody);
    if (learner !== undefined) throw new HttpError(400, 'learner: only a grader token (Authorization: Bearer …) starts sessions for a learner');
    const started = await runtime().sessions.start(lab, who.learnerId, { challenge });
    return json(started, { status: 201, cookie: who.newCookie });
  });
}

/** GET /api/v1/sessions → this browser's sessions, newest first; with a grader's token, its labs' sessions ([?learner=&limit=]). */
export async function GET(req: Request) {
  return handle(async () => {
    const grader = await graderOf(req);
    if (grader) return json(await listForGrader(req, grader));
    const learner = req.headers.get('cookie') ? caller(req) : undefined;
    return json(learner ? await runtime().sessions.listFor(learner.learnerId) : []);
  });
}
