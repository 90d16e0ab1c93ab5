/**
 * API tokens over a real SQLite database: made once and never stored, refused with a reason of
 * their own when unknown, revoked or expired, scoped to labs, and the learner ids graders act for.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiTokens, TokenError, hashToken, parseLifetime } from '../../lib/auth/api-tokens';
import { learnerFromCookieHeader } from '../../lib/auth/learner';
import { LearnerRefSchema, learnerIdFor } from '../../lib/auth/on-behalf';
import { graderHarness, type GraderHarness } from '../support/graders';

let h: GraderHarness;
beforeAll(async () => {
  h = await graderHarness('api-tokens');
});
afterAll(() => h?.close());

/** Everything SQLite wrote so far, the write-ahead log included. */
const databaseBytes = () =>
  fs
    .readdirSync(h.dir)
    .filter((f) => f.startsWith('test.db'))
    .map((f) => fs.readFileSync(`${h.dir}/${f}`).toString('latin1'))
    .join('');

describe('creating and listing', () => {
  it('hands the token out once, recognisable, and keeps only its SHA-256', async () => {
    const { token, info } = await h.tokens.create({ name: 'ci', labs: ['alpha', 'alpha', 'beta'] });
    expect(token).toMatch(/^lf_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'ci', labs: ['alpha', 'beta'], terminals: false, status: 'active', expiresAt: null, lastUsedAt: null });
    expect(await h.tokens.verify(token)).toMatchObject({ ok: true });
    const list = await h.tokens.list();
    expect(JSON.stringify(list)).not.toContain(token);
    expect(list.map((t) => t.name)).toContain('ci');
    const row = await h.db.apiToken.findUnique({ where: { name: 'ci' } });
    expect(row?.hash).toBe(hashToken(token));
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
    // Not in any column, nor anywhere in the database's files.
    expect(JSON.stringify(row)).not.toContain(token.slice(3));
    expect(databaseBytes()).not.toContain(token.slice(3));
  });

  it('validates names, labs and lifetimes, with messages that say what is expected', async () => {
    const refused = (input: Parameters<ApiTokens['create']>[0]) =>
      h.tokens.create(input).then(
        () => 'created',
        (e: Error) => e.message,
      );
    expect(await refused({ name: 'Bad Name', labs: ['alpha'] })).toMatch(/short slug/);
    expect(await refused({ name: 'x'.repeat(41), labs: ['alpha'] })).toMatch(/short slug/);
    expect(await refused({ name: 'nolabs' })).toMatch(/name at least one \(--labs a,b\), or pass --all-labs/);
    expect(await refused({ name: 'both', labs: ['alpha'], allLabs: true })).toMatch(/not both/);
    expect(await refused({ name: 'badlab', labs: ['alpha', 'Alpha!'] })).toBe('"Alpha!": a lab is named by its slug: lowercase letters, digits and dashes');
    expect(await refused({ name: 'ci', labs: ['alpha'] })).toBe('a token named "ci" already exists: pick another name');
    expect(await refused({ name: 'lifetime', labs: ['alpha'], expires: '3y' })).toMatch(/e\.g\. 30d, 12h or 90m/);
    await expect(h.tokens.create({ name: 'x', labs: ['alpha'] })).resolves.toBeDefined();
    await expect(h.tokens.create({ name: 'x', labs: ['alpha'] })).rejects.toBeInstanceOf(TokenError);
  });

  it('parses lifetimes in days, hours and minutes', () => {
    expect(parseLifetime('30d')).toBe(30 * 86_400_000);
    expect(parseLifetime('12h')).toBe(12 * 3_600_000);
    expect(parseLifetime('90m')).toBe(90 * 60_000);
    for (const bad of ['0d', '30', 'd', '1.5h', '-1d', '3651d', '1w']) expect(() => parseLifetime(bad), bad).toThrow(TokenError);
  });

  it('a token for all labs says so, and only when asked for', async () => {
    const { info } = await h.tokens.create({ name: 'everything', allLabs: true, expires: '90m', terminals: true });
    expect(info).toMatchObject({ labs: 'all', terminals: true, status: 'active' });
    expect(Date.parse(info.expiresAt!) - Date.now()).toBeGreaterThan(89 * 60_000);
  });
});

describe('verifying', () => {
  it('refuses unknown, malformed, revoked and expired tokens, each with its own reason', async () => {
    const { token: revoked } = await h.tokens.create({ name: 'to-revoke', labs: ['alpha'] });
    await h.tokens.revoke('to-revoke');
    expect((await h.tokens.revoke('to-revoke')).status).toBe('revoked'); // twice: nothing changes
    const past = new ApiTokens(h.db, () => new Date(Date.now() - 2 * 86_400_000));
    const { token: expired } = await past.create({ name: 'short-lived', labs: ['alpha'], expires: '1d' });
    const reason = async (t: string) => {
      const v = await h.tokens.verify(t);
      return v.ok ? 'ok' : v.reason;
    };
    expect(await reason(`lf_${'A'.repeat(43)}`)).toMatch(/^this token is not known here/);
    expect(await reason('not-a-token')).toMatch(/^this is not a Labforge API token/);
    expect(await reason(revoked)).toMatch(/^this token \("to-revoke"\) was revoked on \d{4}-/);
    expect(await reason(expired)).toMatch(/^this token \("short-lived"\) expired on \d{4}-/);
    expect((await h.tokens.list()).find((t) => t.name === 'short-lived')?.status).toBe('expired');
    await expect(h.tokens.revoke('nobody')).rejects.toThrow('no token is named "nobody"');
  });

  it('records its use at most once a minute', async () => {
    let now = new Date('2026-12-01T10:00:00Z');
    const clocked = new ApiTokens(h.db, () => now);
    const { token } = await clocked.create({ name: 'clocked', labs: ['alpha'] });
    const lastUsed = async () => (await h.db.apiToken.findUnique({ where: { name: 'clocked' } }))?.lastUsedAt?.toISOString();
    await clocked.verify(token);
    expect(await lastUsed()).toBe('2026-12-01T10:00:00.000Z');
    now = new Date('2026-12-01T10:00:59Z');
    await clocked.verify(token);
    expect(await lastUsed()).toBe('2026-12-01T10:00:00.000Z');
    now = new Date('2026-12-01T10:01:00Z');
    const v = await clocked.verify(token);
    expect(await lastUsed()).toBe('2026-12-01T10:01:00.000Z');
    expect(v).toMatchObject({ ok: true, token: { name: 'clocked', labs: ['alpha'], terminals: false } });
  });
});

describe('learners a grader acts for', () => {
  it('map to one learner id per (token, learner), shaped like a learner cookie', () => {
    const t1 = { id: 'a1', hash: 'h1' };
    const t2 = { id: 'a2', hash: 'h2' };
    const id = learnerIdFor(t1, 'student@example.org');
    expect(learnerIdFor(t1, 'student@example.org')).toBe(id);
    expect(learnerFromCookieHeader(`labforge_learner=${id}`)).toBe(id);
    expect(learnerIdFor(t1, 'other@example.org')).not.toBe(id);
    expect(learnerIdFor(t2, 'student@example.org')).not.toBe(id);
    // Keyed by the token's secret hash: the token id and the learner alone do not give it.
    expect(learnerIdFor({ id: 'a1', hash: 'guess' }, 'student@example.org')).not.toBe(id);
  });

  it('are named by 1 to 128 characters of [A-Za-z0-9._:@-]', () => {
    for (const ok of ['a', 'student@example.org', 'moodle:42', 'A.b_c-d', 'x'.repeat(128)]) expect(LearnerRefSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['', 'x'.repeat(129), 'a b', 'a/b', 'é', 'a\n']) expect(LearnerRefSchema.safeParse(bad).success, bad).toBe(false);
  });
});
