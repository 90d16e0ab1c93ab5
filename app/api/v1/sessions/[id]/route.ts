import { runtime } from '@/lib/runtime';
import { sessionCaller } from '@/lib/http/grader';
import { handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import type { Stopped } from '@/lib/http/api/responses';

export const dynamic = 'force-dynamic';

/** GET /api/v1/sessions/:id → {id, lab, status, challenge, challenges, current, progress, ...} */
export async function GET(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    const { id } = await pathIds(params);
    return json(await runtime().sessions.get(id, (await sessionCaller(req, id)).learnerId));
  });
}

/** DELETE /api/v1/sessions/:id → stops the session and destroys its environment. */
export async function DELETE(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const id = (await pathIds(params)).id;
    await runtime().sessions.stop(id, (await sessionCaller(req, id)).learnerId);
    return json({ id, status: 'stopped' } satisfies Stopped);
  });
}
