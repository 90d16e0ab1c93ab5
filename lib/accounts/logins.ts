/**
 * Signed-in browsers of instructors. The cookie holds 32 random bytes; the database keeps their
 * SHA-256 (a copy of it signs no one in). A login lasts 12 hours from its last use, at most 7 days.
 * The cookie is HttpOnly, SameSite=Strict (no cross-site request carries it) and Secure over https.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { AccountError } from './errors';
import { decoyHash, verifyPassword } from './passwords';
import type { Instructor, Role } from './roles';
import { EmailSchema } from './users';

export const LOGIN_COOKIE = 'labforge_instructor';
const IDLE_MS = 12 * 3600_000;
const MAX_MS = 7 * 24 * 3600_000;
/** lastSeenAt is written at most this often, not on every request. */
const SEEN_EVERY_MS = 60_000;
const SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hash = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

export function loginCookie(secret: string, secure: boolean): string {
  return `${LOGIN_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${MAX_MS / 1000}${secure ? '; Secure' : ''}`;
}
export const logoutCookie = (secure: boolean) => `${LOGIN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;

export function loginSecretFrom(cookieHeader: string | null | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === LOGIN_COOKIE && v && SHAPE.test(v)) return v;
  }
  return undefined;
}

/**
 * Checks email and password; on success a new login whose secret goes in the cookie. One message
 * for every failure (unknown email, wrong password, no password yet), so the form tells no one
 * which emails have accounts; an unknown email costs as much time as a wrong password.
 */
export async function signIn(db: Db, email: string, password: string, now = new Date()): Promise<{ secret: string; instructor: Instructor }> {
  const wrong = new AccountError('credentials', 'That email and password do not match an account.');
  const parsed = EmailSchema.safeParse(email);
  const user = parsed.success ? await db.user.findUnique({ where: { email: parsed.data } }) : null;
  const ok = await verifyPassword(password.slice(0, 200), user?.passwordHash ?? (await decoyHash()));
  if (!user || !user.passwordHash || !ok) throw wrong;
  if (user.disabledAt) throw new AccountError('disabled', 'This account is disabled. Ask an admin to enable it.');
  const secret = crypto.randomBytes(32).toString('base64url');
  await db.$transaction([
    db.userLogin.create({ data: { hash: hash(secret), userId: user.id, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + MAX_MS) } }),
    db.user.update({ where: { id: user.id }, data: { lastLoginAt: now } }),
    // Logins that ran out are removed as new ones are made: the table stays the size of who is signed in.
    db.userLogin.deleteMany({ where: { OR: [{ expiresAt: { lt: now } }, { lastSeenAt: { lt: new Date(now.getTime() - IDLE_MS) } }] } }),
  ]);
  return { secret, instructor: { id: user.id, email: user.email, name: user.name, role: user.role as Role } };
}

/** The instructor signed in with this secret; undefined when unknown, idle too long, expired or disabled. */
export async function whoIs(db: Db, secret: string | undefined, now = new Date()): Promise<Instructor | undefined> {
  if (!secret) return undefined;
  const login = await db.userLogin.findUnique({ where: { hash: hash(secret) }, include: { user: true } });
  if (!login || login.user.disabledAt) return undefined;
  if (login.expiresAt <= now || now.getTime() - login.lastSeenAt.getTime() > IDLE_MS) {
    await db.userLogin.deleteMany({ where: { hash: login.hash } });
    return undefined;
  }
  if (now.getTime() - login.lastSeenAt.getTime() > SEEN_EVERY_MS) await db.userLogin.update({ where: { hash: login.hash }, data: { lastSeenAt: now } });
  const u = login.user;
  return { id: u.id, email: u.email, name: u.name, role: u.role as Role };
}

export async function signOut(db: Db, secret: string | undefined): Promise<void> {
  if (secret) await db.userLogin.deleteMany({ where: { hash: hash(secret) } });
}
