import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { SlugSchema, body, caller, handle, json, requireSameOrigin } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';

export const dynamic = 'force-dynamic';

const StartBody = z
  .object({
    lab: SlugSchema,
    /** Author mode only: start at this challenge slug (earlier ones are solved). */
    challenge: SlugSchema.optional(),
  })
  .strict();

/**
 * POST /api/v1/sessions {lab} → 201 {id, status}. Creates the learner cookie if needed.
 * 429 (Retry-After) past the rate limits (lib/http/limits.ts); 409 `{error, code, session, sessions}`
 * naming the live session(s) past the caps on live sessions.
 */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    const who = caller(req, { create: true });
    // A learner created by this very request has no history: the per-address limit covers it.
    await rateLimit(req, 'create', who.newCookie ? undefined : who.learnerId);
    const { lab, challenge } = await body(req, StartBody);
    const started = await runtime().sessions.start(lab, who.learnerId, { challenge });
    return json(started, { status: 201, cookie: who.newCookie });
  });
}

/** GET /api/v1/sessions → this browser's sessions, newest first. */
export async function GET(req: Request) {
  return handle(async () => {
    const learner = req.headers.get('cookie') ? caller(req) : undefined;
    return json(learner ? await runtime().sessions.listFor(learner.learnerId) : []);
  });
}
