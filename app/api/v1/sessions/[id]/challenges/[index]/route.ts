import { runtime } from '@/lib/runtime';
import { HttpError, handle, json, pathIds, type RouteParams } from '@/lib/http/route';
import { sessionCaller } from '@/lib/http/grader';

export const dynamic = 'force-dynamic';

/** GET /api/v1/sessions/:id/challenges/:index → a challenge already reached (0-based), to read again. */
export async function GET(req: Request, { params }: RouteParams<{ id: string; index: string }>) {
  return handle(async () => {
    const { id, index } = await pathIds(params);
    const i = Number(index);
    if (!/^\d{1,4}$/.test(index) || !Number.isInteger(i) || i < 0) throw new HttpError(400, 'index must be a whole number from 0');
    return json(await runtime().sessions.challengeAt(id, (await sessionCaller(req, id)).learnerId, i));
  });
}
