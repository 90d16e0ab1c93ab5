import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, caller, handle, json, requireSameOrigin } from '@/lib/api/http';

export const dynamic = 'force-dynamic';

const StartBody = z
  .object({
    lab: z.string().min(1),
    /** Author mode only: start at this challenge slug (earlier ones are solved). */
    challenge: z.string().min(1).optional(),
  })
  .strict();

/** POST /api/v1/sessions {lab} → 201 {id, status}. Creates the learner cookie if needed. */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    const who = caller(req, { create: true });
    const { lab, challenge } = await body(req, StartBody);
    const started = await runtime().sessions.start(lab, who.learnerId, { challenge });
    return json(started, { status: 201, cookie: who.newCookie });
  });
}

/** GET /api/v1/sessions → this browser's sessions, newest first. */
export async function GET(req: Request) {
  return handle(async () => {
    const learner = req.headers.get('cookie') ? caller(req) : undefined;
    return json(learner ? await runtime().sessions.listFor(learner.learnerId) : []);
  });
}
