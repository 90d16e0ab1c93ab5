import { runtime } from '@/lib/runtime';
import { sessionCaller } from '@/lib/http/grader';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';

export const dynamic = 'force-dynamic';

/** POST /api/v1/sessions/:id/extend → the session with a later expiresAt (once per session). */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id } = await pathIds(params);
    return json(await runtime().sessions.extend(id, (await sessionCaller(req, id)).learnerId));
  });
}
