/**
 * One-time links that set an account's password: the first admin's (printed at the first start)
 * and each invited instructor's (`labforge accounts invite`). Only the SHA-256 of the code is
 * stored; a link works once, for 24 hours (7 days for an invited instructor, who may read mail late).
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { AccountError } from './errors';
import type { Role } from './roles';
import { createAccount, EmailSchema, valid, type Account } from './users';

const CODE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const hash = (code: string) => crypto.createHash('sha256').update(code).digest('hex');
export const SETUP_PATH = '/setup/';

export interface SetupLink {
  code: string;
  url: string;
  expiresAt: Date;
}

/**
 * A new link for `role`; with `email` the account is that person's, without it (the first admin)
 * the form asks for the email. Earlier unused links for the same email and role stop working.
 */
export async function createSetupLink(db: Db, publicUrl: string, role: Role, email?: string, ttlMs = email ? 7 * 86400_000 : 86400_000): Promise<SetupLink> {
  const address = email === undefined ? '' : valid(EmailSchema, email);
  if (address && (await db.user.findFirst({ where: { email: address, passwordHash: { not: null } } })))
    throw new AccountError('exists', `an account for ${address} exists already`);
  const code = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlMs);
  await db.$transaction([
    db.setupLink.deleteMany({ where: { email: address, role, usedAt: null } }),
    db.setupLink.create({ data: { hash: hash(code), email: address, role, expiresAt } }),
  ]);
  return { code, url: `${publicUrl}${SETUP_PATH}${code}`, expiresAt };
}

/** What a link is for, or why it cannot be used. */
export async function readSetupLink(db: Db, code: string): Promise<{ email: string; role: Role }> {
  const row = CODE_SHAPE.test(code) ? await db.setupLink.findUnique({ where: { hash: hash(code) } }) : null;
  if (!row) throw new AccountError('not_found', 'This setup link is not valid. Ask an admin for a new one (or restart the server for the first admin’s).');
  if (row.usedAt) throw new AccountError('used', 'This setup link was used already. Sign in with the account it set up.');
  if (row.expiresAt <= new Date())
    throw new AccountError('expired', 'This setup link has expired. Ask an admin for a new one (or restart the server for the first admin’s).');
  return { email: row.email, role: row.role as Role };
}

/** Uses the link: the account is created with this password and the link stops working. */
export async function redeemSetupLink(db: Db, code: string, form: { email?: string; name?: string; password: string }): Promise<Account> {
  const link = await readSetupLink(db, code);
  // An invited instructor's email is the one the link was made for, whatever the form says.
  const email = link.email || form.email;
  if (!email) throw new AccountError('invalid', 'an email address is needed');
  const claimed = await db.setupLink.updateMany({ where: { hash: hash(code), usedAt: null }, data: { usedAt: new Date() } });
  if (claimed.count !== 1) throw new AccountError('used', 'This setup link was used already. Sign in with the account it set up.');
  try {
    return await createAccount(db, { email, name: form.name ?? '', role: link.role, password: form.password });
  } catch (e) {
    // Nothing was made: the link works again (the form said what to fix).
    await db.setupLink.updateMany({ where: { hash: hash(code) }, data: { usedAt: null } });
    throw e;
  }
}
