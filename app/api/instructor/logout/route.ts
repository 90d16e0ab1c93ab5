import { runtime } from '@/lib/runtime';
import { handle, json, requireSameOrigin } from '@/lib/http/route';
import { loginSecretFrom, logoutCookie, signOut } from '@/lib/accounts/logins';

export const dynamic = 'force-dynamic';

/** POST /api/instructor/logout → the login ends here and in the database. */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    await signOut(runtime().db, loginSecretFrom(req.headers.get('cookie')));
    return json({ ok: true }, { cookie: logoutCookie(new URL(req.url).protocol === 'https:') });
  });
}
