import { runtime } from '@/lib/runtime';
import { caller, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';

export const dynamic = 'force-dynamic';

/** POST /api/v1/sessions/:id/next → the session, on its next challenge (or completed). */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    return json(await runtime().sessions.next((await pathIds(params)).id, caller(req).learnerId));
  });
}
