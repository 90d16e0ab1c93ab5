import { runtime } from '@/lib/runtime';
import { caller, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';

export const dynamic = 'force-dynamic';

/** POST /api/v1/sessions/:id/extend → the session with a later expiresAt (once per session). */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    return json(await runtime().sessions.extend((await pathIds(params)).id, caller(req).learnerId));
  });
}
