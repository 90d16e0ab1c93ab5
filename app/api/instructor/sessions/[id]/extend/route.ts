import { runtime } from '@/lib/runtime';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { instructorFor, ownerOf } from '@/lib/http/instructor';
import { EXTENSION_MS } from '@/lib/sessions/commands';

export const dynamic = 'force-dynamic';

/** POST /api/instructor/sessions/:id/extend → 15 more minutes; the learner's own extension stays available. */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req);
    const { id } = await pathIds(params);
    const view = await runtime().sessions.extend(id, await ownerOf(id), 'instructor');
    runtime().log.info({ sessionId: id, instructor: me.email, minutes: EXTENSION_MS / 60_000 }, 'session extended by an instructor');
    return json({ id, expiresAt: view.expiresAt });
  });
}
