import { runtime } from '@/lib/runtime';
import { HttpError, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';
import { sessionCaller } from '@/lib/http/grader';
import { hostName } from '@/lib/labs/schema';

export const dynamic = 'force-dynamic';

/**
 * POST /api/v1/sessions/:id/hosts/:host/restart → the session, with the host running again
 * (its files kept, its programs ended). A host that already runs: 200, nothing changes. Unknown
 * host: 404; a session that is not active, or whose host is gone: 409.
 */
export async function POST(req: Request, { params }: RouteParams<{ id: string; host: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id, host } = await pathIds(params);
    // Host names as labs declare them (labs/schema.ts): a malformed one is answered like an unknown one.
    if (!hostName.safeParse(host).success) throw new HttpError(404, 'no such host');
    const who = await sessionCaller(req, id);
    await rateLimit(req, 'restart', who.learnerId);
    const rt = runtime();
    await rt.sessions.restartHost(id, who.learnerId, host);
    return json(await rt.sessions.get(id, who.learnerId));
  });
}
