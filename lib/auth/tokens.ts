/**
 * Short-lived, single-use tokens for opening a terminal WebSocket. Browsers
 * apply no same-origin rule to WebSockets and send cookies along, so the
 * socket is authorised by a token the page fetched with a same-origin POST:
 * random (32 bytes), bound to one session + tab + learner + role, valid for
 * seconds, gone once used. In memory: a token outliving a server restart is
 * useless anyway (the page just fetches a new one).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const tokenClaimsSchema = z
  .object({
    sessionId: z.string().min(1).max(200),
    tab: z.string().min(1).max(200),
    learnerId: z.string().min(1).max(200),
    role: z.enum(['owner', 'viewer']),
    /**
     * Who asked for the token: the learner's page (`browser`, the default) or a grader's program
     * holding an API token (`program`), which sends no Origin header; see gateway.ts.
     */
    client: z.enum(['browser', 'program']).optional(),
  })
  .strict();
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

export interface TokenStoreOptions {
  /** Lifetime of a token; default 30 s (enough for a slow reconnect, short enough to be useless when leaked). */
  ttlMs?: number;
  /** Upper bound on outstanding tokens; the oldest are dropped past it. */
  maxTokens?: number;
  now?: () => number;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class TokenStore {
  private readonly tokens = new Map<string, { claims: TokenClaims; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxTokens: number;
  private readonly now: () => number;

  constructor(opts: TokenStoreOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.maxTokens = opts.maxTokens ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Issues a token for `claims` (validated: a bad claim is a bug in the caller, so it throws). */
  issue(claims: TokenClaims): string {
    const valid = tokenClaimsSchema.parse(claims);
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { claims: valid, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The claims of a valid token, which is used up by this call; null when unknown, expired or already used. */
  consume(token: string | null | undefined): TokenClaims | null {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return null;
    const entry = this.tokens.get(token);
    if (!entry) return null;
    this.tokens.delete(token);
    if (entry.expiresAt <= this.now()) return null;
    return { ...entry.claims };
  }

  /**
   * The key in a service tab's URL (`/svc/<session>/<tab>/<key>/`, lib/http/service-proxy.ts):
   * an HMAC of session and tab under this process's secret, handed only to the session's owner.
   * A service page runs sandboxed in an opaque origin, so its requests carry no cookie: the key in
   * the path is what lets them through. Keys change when the server restarts (pages fetch the URL again).
   */
  serviceKey(sessionId: string, tab: string): string {
    return createHmac('sha256', this.serviceSecret).update(`service\0${sessionId}\0${tab}`).digest('base64url').slice(0, 22);
  }

  isServiceKey(sessionId: string, tab: string, key: string): boolean {
    const want = Buffer.from(this.serviceKey(sessionId, tab));
    const got = Buffer.from(key);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private readonly serviceSecret = randomBytes(32);

  /** Outstanding (issued, not yet used or swept) tokens. */
  get size(): number {
    return this.tokens.size;
  }

  /** Drops expired tokens, then the oldest ones past maxTokens (Map keeps insertion order = expiry order). */
  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.tokens) {
      if (entry.expiresAt > now && this.tokens.size < this.maxTokens) break;
      this.tokens.delete(token);
    }
  }
}
