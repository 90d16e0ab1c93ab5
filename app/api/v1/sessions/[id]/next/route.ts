import { runtime } from '@/lib/runtime';
import { sessionCaller } from '@/lib/http/grader';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';

export const dynamic = 'force-dynamic';

/** POST /api/v1/sessions/:id/next → the session, on its next challenge (or completed). */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { id } = await pathIds(params);
    return json(await runtime().sessions.next(id, (await sessionCaller(req, id)).learnerId));
  });
}
