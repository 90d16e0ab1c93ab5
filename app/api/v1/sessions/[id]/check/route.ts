import { runtime } from '@/lib/runtime';
import { body, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';
import { sessionCaller } from '@/lib/http/grader';
import { CheckBody } from '@/lib/http/api/requests';

export const dynamic = 'force-dynamic';

/** POST /api/v1/sessions/:id/check [{answers}] → {passed, message} for the current challenge. */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id } = await pathIds(params);
    const who = await sessionCaller(req, id);
    await rateLimit(req, 'check', who.learnerId);
    const input = await body(req, CheckBody);
    return json(await runtime().sessions.check(id, who.learnerId, input));
  });
}
