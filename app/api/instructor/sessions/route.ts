import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { HttpError, handle, json } from '@/lib/http/route';
import { instructorFor } from '@/lib/http/instructor';
import { liveSessions } from '@/lib/instructors/live';

export const dynamic = 'force-dynamic';

const Query = z.object({
  invite: z.uuid().optional(),
  lab: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .optional(),
});

/** GET /api/instructor/sessions[?invite=&lab=] → every live session, newest first (the dashboard polls this). */
export async function GET(req: Request) {
  return handle(async () => {
    await instructorFor(req);
    const p = new URL(req.url).searchParams;
    const q = Query.safeParse({ invite: p.get('invite') ?? undefined, lab: p.get('lab') ?? undefined });
    if (!q.success) throw new HttpError(400, 'invite is an invite id and lab a lab slug');
    const rt = runtime();
    return json(await liveSessions(rt.db, rt.catalog, { inviteId: q.data.invite, lab: q.data.lab }));
  });
}
