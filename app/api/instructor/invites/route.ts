import { runtime } from '@/lib/runtime';
import { body, handle, json, requireSameOrigin } from '@/lib/http/route';
import { instructorFor } from '@/lib/http/instructor';
import { createInvite, listInvites, NewInviteSchema } from '@/lib/instructors/invites';

export const dynamic = 'force-dynamic';

/** GET /api/instructor/invites → every invite with its seats and sessions, newest first. */
export async function GET(req: Request) {
  return handle(async () => {
    await instructorFor(req);
    return json(await listInvites(runtime().db));
  });
}

/** POST /api/instructor/invites {name, labs, learnerName?, seats?, expiresInHours?} → 201 {invite, url}: the link is shown this once. */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req);
    const rt = runtime();
    const input = await body(req, NewInviteSchema);
    const made = await createInvite(rt.db, input, {
      createdById: me.id,
      publicUrl: rt.config.publicUrl,
      knownLabs: rt.catalog.list().map((l) => l.track.slug),
    });
    return json(made, { status: 201 });
  });
}
