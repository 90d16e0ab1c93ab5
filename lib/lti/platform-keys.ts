/**
 * Platforms' public keys, fetched from their JWKS URLs and cached (jose's remote key set): a
 * token whose `kid` is not in the cache makes it fetch the set again (a platform rotated its key),
 * but at most once per cooldown, so tokens with made-up kids cannot make us hammer the LMS.
 * Shared on globalThis: route handlers are bundled apart from the server (lib/runtime/index.ts).
 */
import { createRemoteJWKSet } from 'jose';
import type { Platform } from './platforms';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export interface JwksCacheOptions {
  /** A set is refetched for an unknown kid only this long after the previous fetch. */
  cooldownMs: number;
  /** A set is refetched anyway after this long. */
  maxAgeMs: number;
  timeoutMs: number;
}

const KEY = Symbol.for('labforge.lti.jwks');
type Holder = { [KEY]?: { options: JwksCacheOptions; sets: Map<string, KeySet> } };

function cache() {
  return ((globalThis as Holder)[KEY] ??= { options: { cooldownMs: 30_000, maxAgeMs: 10 * 60_000, timeoutMs: 5_000 }, sets: new Map() });
}

/** Tests (and only tests) shorten the cooldown; the cache is emptied. */
export function configureJwksCache(options: Partial<JwksCacheOptions>): void {
  const c = cache();
  c.options = { ...c.options, ...options };
  c.sets.clear();
}

/** The key resolver for one platform's tokens (keyed by URL too: a re-registered platform gets a fresh set). */
export function platformKeys(p: Pick<Platform, 'id' | 'jwksUrl'>): KeySet {
  const c = cache();
  const key = `${p.id} ${p.jwksUrl}`;
  let set = c.sets.get(key);
  if (!set) {
    set = createRemoteJWKSet(new URL(p.jwksUrl), {
      cooldownDuration: c.options.cooldownMs,
      cacheMaxAge: c.options.maxAgeMs,
      timeoutDuration: c.options.timeoutMs,
    });
    c.sets.set(key, set);
  }
  return set;
}
