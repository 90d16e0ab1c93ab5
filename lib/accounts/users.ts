/**
 * Instructor and admin accounts. Emails are compared lower-cased; a password is set through a
 * setup link (setup-links.ts) or, for the first admin, from the environment (bootstrap.ts).
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client';
import { AccountError } from './errors';
import { hashPassword, PasswordSchema } from './passwords';
import { ROLES, type Role } from './roles';

export const EmailSchema = z
  .string()
  .trim()
  .max(254, 'an email address is at most 254 characters')
  .email('that is not an email address')
  .transform((e) => e.toLowerCase());
export const NameSchema = z.string().trim().max(100, 'a name is at most 100 characters');
export const RoleSchema = z.enum(ROLES, { message: `a role is one of: ${ROLES.join(', ')}` });

export const NewAccountSchema = z.object({ email: EmailSchema, name: NameSchema.default(''), role: RoleSchema, password: PasswordSchema }).strict();
export type NewAccount = z.input<typeof NewAccountSchema>;

/** The value, or an AccountError with the first problem in words, e.g. "password: a password needs at least 10 characters". */
export function valid<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new AccountError('invalid', issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
}

export interface Account {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
  lastLoginAt: string | null;
  disabled: boolean;
}

type UserRow = { id: string; email: string; name: string; role: string; createdAt: Date; lastLoginAt: Date | null; disabledAt: Date | null };

export const accountOf = (u: UserRow): Account => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role as Role,
  createdAt: u.createdAt.toISOString(),
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  disabled: u.disabledAt !== null,
});

/** Creates an account, or sets the password of one that was created without (an unused setup). */
export async function createAccount(db: Db, input: NewAccount): Promise<Account> {
  const a = valid(NewAccountSchema, input);
  const passwordHash = await hashPassword(a.password);
  const existing = await db.user.findUnique({ where: { email: a.email } });
  if (existing?.passwordHash) throw new AccountError('exists', `an account for ${a.email} exists already`);
  const row = existing
    ? await db.user.update({ where: { id: existing.id }, data: { name: a.name || existing.name, role: a.role, passwordHash } })
    : await db.user.create({ data: { id: crypto.randomUUID(), email: a.email, name: a.name, role: a.role, passwordHash } });
  return accountOf(row);
}

export async function listAccounts(db: Db): Promise<Account[]> {
  return (await db.user.findMany({ orderBy: { createdAt: 'asc' } })).map(accountOf);
}

/** A disabled account cannot sign in, and its open logins end at once. */
export async function setDisabled(db: Db, email: string, disabled: boolean): Promise<Account> {
  const e = valid(EmailSchema, email);
  const user = await db.user.findUnique({ where: { email: e } });
  if (!user) throw new AccountError('not_found', `there is no account for ${e}`);
  const row = await db.user.update({ where: { id: user.id }, data: { disabledAt: disabled ? new Date() : null } });
  if (disabled) await db.userLogin.deleteMany({ where: { userId: user.id } });
  return accountOf(row);
}

export async function hasAdmin(db: Db): Promise<boolean> {
  return (await db.user.count({ where: { role: 'admin', passwordHash: { not: null }, disabledAt: null } })) > 0;
}
