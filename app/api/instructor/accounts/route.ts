import { z } from 'zod';
import { runtime } from '@/lib/runtime';
import { body, handle, json, requireSameOrigin } from '@/lib/http/route';
import { instructorFor } from '@/lib/http/instructor';
import { createSetupLink } from '@/lib/accounts/setup-links';
import { listAccounts } from '@/lib/accounts/users';

export const dynamic = 'force-dynamic';

const InviteBody = z.object({ email: z.string().max(254), role: z.enum(['instructor', 'admin']).default('instructor') }).strict();

/** GET /api/instructor/accounts (admin) → every account. */
export async function GET(req: Request) {
  return handle(async () => {
    await instructorFor(req, 'admin');
    return json(await listAccounts(runtime().db));
  });
}

/** POST /api/instructor/accounts {email, role} (admin) → 201 {url, expiresAt}: a one-time link that sets up the account. */
export async function POST(req: Request) {
  return handle(async () => {
    requireSameOrigin(req);
    const me = await instructorFor(req, 'admin');
    const { email, role } = await body(req, InviteBody);
    const rt = runtime();
    const link = await createSetupLink(rt.db, rt.config.publicUrl, role, email);
    rt.log.info({ admin: me.email, role }, 'account setup link made');
    return json({ url: link.url, expiresAt: link.expiresAt.toISOString() }, { status: 201 });
  });
}
