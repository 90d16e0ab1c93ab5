/**
 * Instructor accounts on a real SQLite database: passwords (scrypt), sign-in and its one message
 * for every mismatch, login expiry, disabled accounts, one-time setup links, the first admin.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { hashPassword, verifyPassword } from '../../lib/accounts/passwords';
import { loginCookie, loginSecretFrom, signIn, signOut, whoIs } from '../../lib/accounts/logins';
import { createSetupLink, readSetupLink, redeemSetupLink } from '../../lib/accounts/setup-links';
import { createAccount, setDisabled } from '../../lib/accounts/users';
import { bootstrapAdmin } from '../../lib/accounts/bootstrap';
import { AccountError } from '../../lib/accounts/errors';
import { databaseForThisFile } from '../support/database';

const quiet = pino({ level: 'silent' });
const PASSWORD = 'correct horse battery';
const t = databaseForThisFile('accounts');

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AccountError);
  return e as AccountError;
};

describe('passwords', () => {
  it('verifies the password it hashed, and nothing else', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(a).not.toBe(b); // salted
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, a)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'plain-text')).toBe(false);
    expect(await verifyPassword(PASSWORD, a.replace('$15$', '$40$'))).toBe(false); // a cost no one set
  });
});

describe('sign-in', () => {
  it('signs in with the right password; says the same for a wrong password and an unknown email', async () => {
    await createAccount(t.db, { email: 'Ada@Example.org', role: 'instructor', name: 'Ada', password: PASSWORD });
    const { secret, instructor } = await signIn(t.db, 'ada@example.org', PASSWORD);
    expect(instructor).toMatchObject({ email: 'ada@example.org', role: 'instructor', name: 'Ada' });
    expect(await whoIs(t.db, secret)).toMatchObject({ email: 'ada@example.org' });
    // The database holds a hash of the secret, not the secret.
    const rows = await t.db.userLogin.findMany();
    expect(rows.some((r) => r.hash === secret)).toBe(false);

    const wrong = await refusal(signIn(t.db, 'ada@example.org', 'not the password'));
    const unknown = await refusal(signIn(t.db, 'nobody@example.org', PASSWORD));
    expect(wrong.code).toBe('credentials');
    expect(unknown.message).toBe(wrong.message);
  });

  it('reads the login cookie, ends a login on sign-out, after 12 idle hours, and when the account is disabled', async () => {
    const { secret } = await signIn(t.db, 'ada@example.org', PASSWORD);
    expect(loginSecretFrom(loginCookie(secret, true).split(';')[0])).toBe(secret);
    expect(loginCookie(secret, true)).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    expect(loginSecretFrom('labforge_instructor=../../etc')).toBeUndefined();

    const later = new Date(Date.now() + 13 * 3600_000);
    expect(await whoIs(t.db, secret, later)).toBeUndefined();
    expect(await whoIs(t.db, secret)).toBeUndefined(); // removed when found idle

    const second = await signIn(t.db, 'ada@example.org', PASSWORD);
    await signOut(t.db, second.secret);
    expect(await whoIs(t.db, second.secret)).toBeUndefined();

    const third = await signIn(t.db, 'ada@example.org', PASSWORD);
    await setDisabled(t.db, 'ada@example.org', true);
    expect(await whoIs(t.db, third.secret)).toBeUndefined();
    expect((await refusal(signIn(t.db, 'ada@example.org', PASSWORD))).code).toBe('disabled');
    await setDisabled(t.db, 'ada@example.org', false);
    expect((await signIn(t.db, 'ada@example.org', PASSWORD)).instructor.email).toBe('ada@example.org');
  });

  it('refuses weak passwords and bad emails with a reason', async () => {
    expect((await refusal(createAccount(t.db, { email: 'bob@example.org', role: 'instructor', password: 'short' }))).message).toBe(
      'password: a password needs at least 10 characters',
    );
    expect((await refusal(createAccount(t.db, { email: 'bob@example.org', role: 'instructor', password: 'aaaaaaaaaaaa' }))).message).toMatch(/4 different/);
    expect((await refusal(createAccount(t.db, { email: 'not-an-email', role: 'instructor', password: PASSWORD }))).message).toMatch(/^email: /);
    expect((await refusal(createAccount(t.db, { email: 'ada@example.org', role: 'instructor', password: PASSWORD }))).code).toBe('exists');
  });
});

describe('setup links', () => {
  it('sets up an invited instructor once, with the email the link was made for', async () => {
    const link = await createSetupLink(t.db, 'https://labs.example.org', 'instructor', 'carol@example.org');
    expect(link.url).toBe(`https://labs.example.org/setup/${link.code}`);
    expect(await readSetupLink(t.db, link.code)).toEqual({ email: 'carol@example.org', role: 'instructor' });
    // A weak password is refused and the link still works.
    expect((await refusal(redeemSetupLink(t.db, link.code, { password: 'short' }))).code).toBe('invalid');
    const account = await redeemSetupLink(t.db, link.code, { email: 'mallory@example.org', name: 'Carol', password: PASSWORD });
    expect(account).toMatchObject({ email: 'carol@example.org', role: 'instructor', name: 'Carol' });
    expect((await refusal(redeemSetupLink(t.db, link.code, { password: PASSWORD }))).code).toBe('used');
    expect((await refusal(readSetupLink(t.db, 'x'.repeat(43)))).code).toBe('not_found');
  });

  it('expires, and a newer link for the same person replaces the older', async () => {
    const old = await createSetupLink(t.db, 'http://x', 'instructor', 'dan@example.org', -1000);
    expect((await refusal(readSetupLink(t.db, old.code))).code).toBe('expired');
    const first = await createSetupLink(t.db, 'http://x', 'instructor', 'dan@example.org');
    const second = await createSetupLink(t.db, 'http://x', 'instructor', 'dan@example.org');
    expect((await refusal(readSetupLink(t.db, first.code))).code).toBe('not_found');
    expect((await readSetupLink(t.db, second.code)).email).toBe('dan@example.org');
  });
});

describe('the first admin', () => {
  it('prints a setup link while no admin can sign in, then nothing; or makes the admin from the environment', async () => {
    const made = await bootstrapAdmin(t.db, { publicUrl: 'http://localhost:3000', log: quiet });
    expect(made.made).toBe('link');
    const code = made.made === 'link' ? made.url.split('/setup/')[1] : '';
    expect(await readSetupLink(t.db, code)).toEqual({ email: '', role: 'admin' });
    await redeemSetupLink(t.db, code, { email: 'root@example.org', password: PASSWORD });
    expect((await bootstrapAdmin(t.db, { publicUrl: 'http://localhost:3000', log: quiet })).made).toBe('nothing');

    const env = { email: 'ops@example.org', password: PASSWORD };
    expect(await bootstrapAdmin(t.db, { publicUrl: 'http://x', admin: env, log: quiet })).toEqual({ made: 'account', email: 'ops@example.org' });
    expect((await bootstrapAdmin(t.db, { publicUrl: 'http://x', admin: env, log: quiet })).made).toBe('nothing');
    expect((await signIn(t.db, 'ops@example.org', PASSWORD)).instructor.role).toBe('admin');
    await expect(bootstrapAdmin(t.db, { publicUrl: 'http://x', admin: { email: 'weak@example.org', password: 'short' }, log: quiet })).rejects.toThrow(
      'LABFORGE_ADMIN_PASSWORD: password: a password needs at least 10 characters',
    );
  });
});
