import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { HttpError, body, handle, json, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { instructorFor } from '@/lib/http/instructor';
import { setDisabled } from '@/lib/accounts/users';

export const dynamic = 'force-dynamic';

const PatchBody = z.object({ disabled: z.boolean() }).strict();

/** PATCH /api/instructor/accounts/:account {disabled} (admin) → the account, enabled or disabled (its sign-ins ended). */
export async function PATCH(req: Request, { params }: RouteParams<{ account: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req, 'admin');
    const { account } = await params;
    const { disabled } = await body(req, PatchBody);
    const rt = runtime();
    const user = z.uuid().safeParse(account).success ? await rt.db.user.findUnique({ where: { id: account } }) : null;
    if (!user) throw new HttpError(404, 'there is no such account');
    if (user.id === me.id && disabled) throw new HttpError(409, 'you cannot disable your own account: another admin can');
    return json(await setDisabled(rt.db, user.email, disabled));
  });
}
