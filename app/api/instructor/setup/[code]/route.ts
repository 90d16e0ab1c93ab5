import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, handle, json, requireSameOrigin, type RouteParams } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';
import { loginCookie, signIn } from '@/lib/accounts/logins';
import { redeemSetupLink } from '@/lib/accounts/setup-links';

export const dynamic = 'force-dynamic';

const SetupBody = z.object({ email: z.string().max(254).optional(), name: z.string().max(100).optional(), password: z.string().max(200) }).strict();

/** POST /api/instructor/setup/:code {email?, name?, password} → the account is made, and this browser signed in. */
export async function POST(req: Request, { params }: RouteParams<{ code: string }>) {
  return handle(async () => {
    requireSameOrigin(req);
    const { code } = await params;
    await rateLimit(req, 'login');
    const form = await body(req, SetupBody);
    const db = runtime().db;
    const account = await redeemSetupLink(db, code, form);
    const { secret } = await signIn(db, account.email, form.password);
    return json({ email: account.email, role: account.role }, { status: 201, cookie: loginCookie(secret, new URL(req.url).protocol === 'https:') });
  });
}
