import { describe, expect, it } from 'vitest';
import { TokenStore, type TokenClaims } from '../../lib/auth/tokens';
import { databaseForThisFile } from '../support/database';

const claims: TokenClaims = { sessionId: 's-1', tab: 'shell', learnerId: 'l-1', role: 'owner' };
const t = databaseForThisFile('tokens');

// The same behaviour from both tables: the server's (the database, shared by replicas) and the one in memory.
describe.each([
  ['in memory', (o: ConstructorParameters<typeof TokenStore>[0] = {}) => new TokenStore(o)],
  ['in the database', (o: ConstructorParameters<typeof TokenStore>[0] = {}) => new TokenStore({ ...o, db: t.db })],
])('TokenStore %s', (_, store) => {
  it('issues random 32-byte base64url tokens that carry their claims', async () => {
    const s = store();
    const a = await s.issue(claims);
    const b = await s.issue(claims);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url').length).toBe(32);
    expect(a).not.toBe(b);
    expect(await s.consume(a)).toEqual(claims);
    expect(await s.consume(b)).toEqual(claims);
  });

  it('is single use, even when two takers race for one token', async () => {
    const s = store();
    const tok = await s.issue({ ...claims, role: 'viewer' });
    expect((await s.consume(tok))?.role).toBe('viewer');
    expect(await s.consume(tok)).toBeNull();
    const raced = await s.issue(claims);
    const results = await Promise.all([s.consume(raced), s.consume(raced), s.consume(raced)]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('expires after its ttl (default 30 s)', async () => {
    let now = Date.now();
    const s = store({ now: () => now });
    const t1 = await s.issue(claims);
    const t2 = await s.issue(claims);
    now += 29_999;
    expect(await s.consume(t1)).toEqual(claims);
    now += 1;
    expect(await s.consume(t2)).toBeNull();
  });

  it('refuses unknown, malformed and missing tokens', async () => {
    const s = store();
    await s.issue(claims);
    expect(await s.consume(undefined)).toBeNull();
    expect(await s.consume(null)).toBeNull();
    expect(await s.consume('')).toBeNull();
    expect(await s.consume('x'.repeat(43))).toBeNull();
    expect(await s.consume('../../etc/passwd')).toBeNull();
  });

  it('validates claims at issue', async () => {
    const s = store();
    await expect(s.issue({ ...claims, role: 'admin' as 'owner' })).rejects.toThrow();
    await expect(s.issue({ ...claims, sessionId: '' })).rejects.toThrow();
  });

  it('returns a copy: a caller cannot change stored claims', async () => {
    const s = store();
    const input = { ...claims };
    const tok = await s.issue(input);
    input.sessionId = 'other';
    expect((await s.consume(tok))?.sessionId).toBe('s-1');
  });
});

describe('TokenStore across replicas', () => {
  it('a token issued by one store opens on another of the same database, once; keys match under one secret', async () => {
    const secret = Buffer.alloc(32, 7);
    const a = new TokenStore({ db: t.db, serviceSecret: secret });
    const b = new TokenStore({ db: t.db, serviceSecret: secret });
    const tok = await a.issue(claims);
    expect(await b.consume(tok)).toEqual(claims);
    expect(await a.consume(tok)).toBeNull();
    expect(b.isServiceKey('s-1', 'web', a.serviceKey('s-1', 'web'))).toBe(true);
    expect(new TokenStore({ db: t.db }).isServiceKey('s-1', 'web', a.serviceKey('s-1', 'web'))).toBe(false);
  });

  it('stores only a hash of each token', async () => {
    const tok = await new TokenStore({ db: t.db }).issue(claims);
    const rows = await t.db.terminalToken.findMany();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.hash.includes(tok))).toBe(false);
  });

  it('sweeps expired tokens when it issues', async () => {
    let now = Date.now();
    const s = new TokenStore({ db: t.db, now: () => now });
    await s.issue(claims);
    now += 120_000;
    await new TokenStore({ db: t.db, now: () => now }).issue(claims);
    expect(await t.db.terminalToken.count({ where: { expiresAt: { lte: new Date(now) } } })).toBe(0);
  });
});

describe('TokenStore in memory', () => {
  it('sweeps expired tokens and caps outstanding ones', async () => {
    let now = 0;
    const s = new TokenStore({ now: () => now, ttlMs: 1000, maxTokens: 100 });
    for (let i = 0; i < 50; i++) await s.issue(claims);
    now = 2000;
    await s.issue(claims);
    expect(s.size).toBe(1);
    const first = await s.issue(claims);
    for (let i = 0; i < 200; i++) await s.issue(claims);
    expect(s.size).toBeLessThanOrEqual(100);
    expect(await s.consume(first)).toBeNull(); // the oldest went first
  });
});
