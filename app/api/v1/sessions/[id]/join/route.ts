import { handle, json, pathIds, type RouteParams } from '@/lib/http/route';
import { requireGrader } from '@/lib/http/grader';
import { newJoinLink } from '@/lib/http/grader-sessions';

export const dynamic = 'force-dynamic';

/** POST /api/v1/sessions/:id/join (grader token) → 201 {joinUrl, joinExpiresAt}: a new single-use link for the session's learner. */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    const grader = await requireGrader(req);
    return json(await newJoinLink(grader, (await pathIds(params)).id), { status: 201 });
  });
}
