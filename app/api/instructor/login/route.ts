import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, handle, json, requireSameOrigin } from '@/lib/http/route';
import { rateLimit } from '@/lib/http/limits';
import { loginCookie, signIn } from '@/lib/accounts/logins';

export const dynamic = 'force-dynamic';

const LoginBody = z.object({ email: z.string().max(254), password: z.string().max(200) }).strict();

/** POST /api/instructor/login {email, password} → {name, role} and the login cookie; 401 for any mismatch, 429 past the limits. */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    const { email, password } = await body(req, LoginBody);
    await rateLimit(req, 'login', email.trim().toLowerCase());
    const { secret, instructor } = await signIn(runtime().db, email, password);
    return json(
      { name: instructor.name, email: instructor.email, role: instructor.role },
      { cookie: loginCookie(secret, new URL(req.url).protocol === 'https:') },
    );
  });
}
