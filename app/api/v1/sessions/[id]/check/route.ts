import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, caller, handle, json, pathIds, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';

export const dynamic = 'force-dynamic';

const CheckBody = z.object({ answers: z.array(z.number().int().nonnegative()).max(64).optional() }).strict();

/** POST /api/v1/sessions/:id/check [{answers}] → {passed, message} for the current challenge. */
export async function POST(req: Request, { params }: RouteParams<{ id: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const who = caller(req);
    await rateLimit(req, 'check', who.learnerId);
    const input = await body(req, CheckBody);
    return json(await runtime().sessions.check((await pathIds(params)).id, who.learnerId, input));
  });
}
