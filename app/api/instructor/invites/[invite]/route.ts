import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { HttpError, handle, json, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { instructorFor } from '@/lib/http/instructor';
import { revokeInvite } from '@/lib/instructors/invites';

export const dynamic = 'force-dynamic';

/** DELETE /api/instructor/invites/:invite → the link stops working; sessions started with it go on. */
export async function DELETE(req: Request, { params }: RouteParams<{ invite: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    await instructorFor(req);
    const { invite } = await params;
    if (!z.uuid().safeParse(invite).success) throw new HttpError(404, 'there is no such invite');
    await revokeInvite(runtime().db, invite);
    return json({ id: invite, status: 'revoked' });
  });
}
