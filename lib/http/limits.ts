/**
 * Request rate limits for the v1 API: per learner (cookie) and per client
 * address, on the calls that cost the platform something (starting a lab,
 * running a Check, minting a terminal token). Over a limit the call answers 429
 * with `Retry-After` (seconds) and a message for humans. The numbers are
 * base/config.ts RATE_LIMITS, overridden by LABFORGE_RATE_LIMITS.
 *
 * Limits count requests, not successes: a refused start counts too. Counters
 * live in this process's memory (one server per database), on globalThis
 * because Next bundles route handlers separately (see lib/runtime/index.ts); they
 * start afresh when the server restarts.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RATE_LIMITS, type Config, type RateLimitName } from '../base/config';
import { runtime } from '../runtime/index';
import { HttpError } from './route';

export type RateAction = RateLimitName extends `${infer A}.${string}` ? A : never;

/** What each action counts, and what its second key is (a learner's browser, or the email signed in with). */
const WHAT: Record<RateAction, { counts: string; per: string }> = {
  create: { counts: 'lab starts', per: 'from this browser' },
  check: { counts: 'checks', per: 'from this browser' },
  token: { counts: 'terminal connections', per: 'from this browser' },
  restart: { counts: 'host restarts', per: 'from this browser' },
  login: { counts: 'sign-in attempts', per: 'for this email' },
};

/** Set by server.ts on every request, replacing any value a client sent: the TCP peer's address. */
export const PEER_HEADER = 'x-labforge-peer';

const WINDOW_SECONDS = 60;

interface State {
  config: unknown;
  limits: Record<string, number>;
  limiters: Map<string, RateLimiterMemory>;
}
const KEY = Symbol.for('labforge.rate-limits');
type Holder = { [KEY]?: State };

/** The limiters of the running server's configuration (rebuilt when the runtime's config changes, e.g. in tests). */
function state(): State {
  const config = runtimeConfig();
  const holder = globalThis as Holder;
  const cur = holder[KEY];
  if (cur && cur.config === config) return cur;
  // The defaults (base/config.ts RATE_LIMITS) when no server is configured, as in tests that build only part of the runtime.
  const fresh: State = { config, limits: config?.rateLimits ?? { ...RATE_LIMITS }, limiters: new Map() };
  holder[KEY] = fresh;
  return fresh;
}

function runtimeConfig() {
  try {
    return runtime().config as Config | undefined;
  } catch {
    return undefined;
  }
}

/** Forgets every counter (tests). */
export function resetRateLimits(): void {
  delete (globalThis as Holder)[KEY];
}

/**
 * The client's address: the last X-Forwarded-For entry (what the trusted proxy saw) when
 * LABFORGE_TRUST_PROXY=1, else the socket's peer as server.ts recorded it. IPv6 addresses count
 * per /64 (one subscriber's usual allocation), so a client cannot rotate through its own prefix.
 */
export function clientAddress(req: Request, trustProxy = !!runtimeConfig()?.trustProxy): string {
  let addr: string | undefined;
  if (trustProxy)
    addr = req.headers
      .get('x-forwarded-for')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .at(-1);
  addr ??= req.headers.get(PEER_HEADER) ?? undefined;
  return addr ? addressKey(addr) : 'unknown';
}

export function addressKey(raw: string): string {
  const addr = raw
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped) return mapped[1];
  if (!addr.includes(':')) return addr;
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Counts one `action` request for this client address and learner; over either limit it throws
 * a 429 HttpError whose message says what, how many, and when to try again.
 */
export async function rateLimit(req: Request, action: RateAction, learnerId?: string): Promise<void> {
  const s = state();
  const keys: [RateLimitName, string | undefined, string][] = [
    [`${action}.address` as RateLimitName, clientAddress(req), 'from your network address'],
    [`${action}.learner` as RateLimitName, learnerId, WHAT[action].per],
  ];
  for (const [name, key, who] of keys) {
    const points = s.limits[name];
    if (!key || !points) continue;
    let limiter = s.limiters.get(name);
    if (!limiter) s.limiters.set(name, (limiter = new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix: name })));
    try {
      await limiter.consume(key);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const wait = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw new HttpError(429, `Too many ${WHAT[action].counts} ${who}: at most ${points} a minute. Try again in ${wait} s.`, {
        retryAfter: wait,
        code: 'rate_limited',
      });
    }
  }
}
