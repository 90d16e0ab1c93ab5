/**
 * The first admin. With LABFORGE_ADMIN_EMAIL and LABFORGE_ADMIN_PASSWORD the account is made at
 * start (when it does not exist yet); otherwise, while no admin can sign in, every start prints a
 * fresh one-time setup link (the previous one stops working).
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { createSetupLink } from './setup-links';
import { createAccount, EmailSchema, hasAdmin, valid } from './users';

export type Bootstrap = { made: 'account'; email: string } | { made: 'link'; url: string } | { made: 'nothing' };

export async function bootstrapAdmin(db: Db, opts: { publicUrl: string; admin?: { email: string; password: string }; log: Logger }): Promise<Bootstrap> {
  if (opts.admin) {
    const email = valid(EmailSchema, opts.admin.email);
    if (await db.user.findFirst({ where: { email, passwordHash: { not: null } } })) return { made: 'nothing' };
    try {
      await createAccount(db, { email, role: 'admin', password: opts.admin.password });
    } catch (e) {
      throw new Error(`LABFORGE_ADMIN_PASSWORD: ${(e as Error).message}`, { cause: e });
    }
    opts.log.info({ email }, 'admin account made from LABFORGE_ADMIN_EMAIL');
    return { made: 'account', email };
  }
  if (await hasAdmin(db)) return { made: 'nothing' };
  const link = await createSetupLink(db, opts.publicUrl, 'admin');
  opts.log.warn({ expiresAt: link.expiresAt.toISOString() }, 'no admin account yet: open the setup link printed below to make one');
  // The link itself goes to stderr, not the structured log (logs are shipped and kept; the link is a credential).
  process.stderr.write(`\nSet up the first admin account (one use, 24 h): ${link.url}\n\n`);
  return { made: 'link', url: link.url };
}
