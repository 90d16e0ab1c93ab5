import { runtime } from '@/lib/runtime';
import { HttpError, handle, json, pathIds, type RouteParams } from '@/lib/http/route';
import { sessionCaller } from '@/lib/http/grader';
import { ChallengeIndexSchema } from '@/lib/http/api/requests';

export const dynamic = 'force-dynamic';

/** GET /api/v1/sessions/:id/challenges/:index → a challenge already reached (0-based), to read again. */
export async function GET(req: Request, { params }: RouteParams<{ id: string; index: string }>) {
  return handle(async () => {
    const { id, index } = await pathIds(params);
    if (!ChallengeIndexSchema.safeParse(index).success) throw new HttpError(400, 'index must be a whole number from 0');
    return json(await runtime().sessions.challengeAt(id, (await sessionCaller(req, id)).learnerId, Number(index)));
  });
}
