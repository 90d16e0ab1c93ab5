import { describe, expect, it } from 'vitest';
import { TokenStore, type TokenClaims } from '../../lib/auth/tokens';

const claims: TokenClaims = { sessionId: 's-1', tab: 'shell', learnerId: 'l-1', role: 'owner' };

describe('TokenStore', () => {
  it('issues random 32-byte base64url tokens that carry their claims', () => {
    const store = new TokenStore();
    const a = store.issue(claims);
    const b = store.issue(claims);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url').length).toBe(32);
    expect(a).not.toBe(b);
    expect(store.consume(a)).toEqual(claims);
    expect(store.consume(b)).toEqual(claims);
  });

  it('is single use', () => {
    const store = new TokenStore();
    const t = store.issue({ ...claims, role: 'viewer' });
    expect(store.consume(t)?.role).toBe('viewer');
    expect(store.consume(t)).toBeNull();
  });

  it('expires after its ttl (default 30 s)', () => {
    let now = 1_000_000;
    const store = new TokenStore({ now: () => now });
    const t1 = store.issue(claims);
    const t2 = store.issue(claims);
    now += 29_999;
    expect(store.consume(t1)).toEqual(claims);
    now += 1;
    expect(store.consume(t2)).toBeNull();
  });

  it('refuses unknown, malformed and missing tokens', () => {
    const store = new TokenStore();
    store.issue(claims);
    expect(store.consume(undefined)).toBeNull();
    expect(store.consume(null)).toBeNull();
    expect(store.consume('')).toBeNull();
    expect(store.consume('x'.repeat(43))).toBeNull();
    expect(store.consume('../../etc/passwd')).toBeNull();
  });

  it('validates claims at issue', () => {
    const store = new TokenStore();
    expect(() => store.issue({ ...claims, role: 'admin' as 'owner' })).toThrow();
    expect(() => store.issue({ ...claims, sessionId: '' })).toThrow();
  });

  it('returns a copy: a caller cannot change stored claims', () => {
    const store = new TokenStore();
    const input = { ...claims };
    const t = store.issue(input);
    input.sessionId = 'other';
    expect(store.consume(t)?.sessionId).toBe('s-1');
  });

  it('sweeps expired tokens and caps outstanding ones', () => {
    let now = 0;
    const store = new TokenStore({ now: () => now, ttlMs: 1000, maxTokens: 100 });
    for (let i = 0; i < 50; i++) store.issue(claims);
    now = 2000;
    store.issue(claims);
    expect(store.size).toBe(1);
    const first = store.issue(claims);
    for (let i = 0; i < 200; i++) store.issue(claims);
    expect(store.size).toBeLessThanOrEqual(100);
    expect(store.consume(first)).toBeNull(); // the oldest went first
  });
});
