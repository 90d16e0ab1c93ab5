import { runtime } from '@/lib/runtime';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { instructorFor, ownerOf } from '@/lib/http/instructor';

export const dynamic = 'force-dynamic';

/** POST /api/instructor/sessions/:id/stop → the session ends (`stopped`), its environment is removed. */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req);
    const { id } = await pathIds(params);
    await runtime().sessions.stop(id, await ownerOf(id));
    runtime().log.info({ sessionId: id, instructor: me.email }, 'session stopped by an instructor');
    return json({ id, status: 'stopped' });
  });
}
