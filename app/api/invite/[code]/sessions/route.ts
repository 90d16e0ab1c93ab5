import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, caller, handle, json, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';
import { admit, openInvite, recordInviteSession } from '@/lib/instructors/invites';
import { NameSchema } from '@/lib/accounts/users';

export const dynamic = 'force-dynamic';

const StartBody = z.object({ lab: z.string().max(63), name: NameSchema.optional() }).strict();

/**
 * POST /api/invite/:code/sessions {lab, name?} → 201 {id, status}: a session of one of the
 * invite's labs, filed under the invite with the learner's name (the invite's own, when it names one).
 */
export async function POST(req: Request, { params }: RouteParams<{ code: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { code } = await params;
    const who = caller(req, { create: true });
    await rateLimit(req, 'create', who.newCookie ? undefined : who.learnerId);
    const { lab, name } = await body(req, StartBody);
    const rt = runtime();
    const invite = await openInvite(rt.db, code);
    await admit(rt.db, invite, who.learnerId, lab);
    const started = await rt.sessions.start(lab, who.learnerId);
    await recordInviteSession(rt.db, started.id, invite.id, invite.learnerName ?? name);
    return json(started, { status: 201, cookie: who.newCookie });
  });
}
