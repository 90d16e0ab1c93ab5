/**
 * Short-lived, single-use tokens for opening a terminal WebSocket. Browsers
 * apply no same-origin rule to WebSockets and send cookies along, so the
 * socket is authorised by a token the page fetched with a same-origin POST:
 * random (32 bytes), bound to one session + tab + learner + role, valid for
 * seconds, gone once used.
 *
 * The server keeps them in the database (`TerminalToken`, hashed), so a token one replica issued
 * opens the socket on another, and still only once: taking it is a delete, which one replica wins.
 * Without a database (tests, benches) they live in memory.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client';
import { lostRace } from '../db/faults';

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
    /**
     * Issued by a replica relaying a socket to the replica running its terminal
     * (lib/terminals/node/relay.ts): the socket is served there, never relayed again. Only the
     * gateway issues it; a client cannot ask for it.
     */
    relayed: z.literal(true).optional(),
  })
  .strict();
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

export interface TokenStoreOptions {
  /** Where tokens live between issue and use: the database (every replica sees them) or this process. */
  db?: Db;
  /** The service keys' secret; shared by every replica of one database (lib/db/settings.ts). Random when not given. */
  serviceSecret?: Buffer;
  /** Lifetime of a token; default 30 s (enough for a slow reconnect, short enough to be useless when leaked). */
  ttlMs?: number;
  /** Upper bound on outstanding tokens in memory; the oldest are dropped past it. */
  maxTokens?: number;
  now?: () => number;
}

interface Entry {
  claims: TokenClaims;
  expiresAt: number;
}

/** Keeps issued tokens, by the SHA-256 of each: a leaked table opens no terminal. */
interface TokenTable {
  put(hash: string, entry: Entry): Promise<void>;
  /** The entry, removed: a second take of the same hash finds nothing, on any replica. */
  take(hash: string): Promise<Entry | undefined>;
  readonly size: number | undefined;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export class TokenStore {
  private readonly table: TokenTable;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly serviceSecret: Buffer;

  constructor(opts: TokenStoreOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.serviceSecret = opts.serviceSecret ?? randomBytes(32);
    this.table = opts.db ? new DatabaseTable(opts.db, this.now) : new MemoryTable(opts.maxTokens ?? 10_000, this.now);
  }

  /** Issues a token for `claims` (validated: a bad claim is a bug in the caller, so it throws). */
  async issue(claims: TokenClaims): Promise<string> {
    const valid = tokenClaimsSchema.parse(claims);
    const token = randomBytes(32).toString('base64url');
    await this.table.put(hashOf(token), { claims: valid, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The claims of a valid token, which is used up by this call; null when unknown, expired or already used. */
  async consume(token: string | null | undefined): Promise<TokenClaims | null> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return null;
    const entry = await this.table.take(hashOf(token));
    if (!entry || entry.expiresAt <= this.now()) return null;
    return { ...entry.claims };
  }

  /**
   * The key in a service tab's URL (`/svc/<session>/<tab>/<key>/`, lib/http/service-proxy.ts):
   * an HMAC of session and tab under the platform's secret, handed only to the session's owner.
   * A service page runs sandboxed in an opaque origin, so its requests carry no cookie: the key in
   * the path is what lets them through. Every replica computes the same key.
   */
  serviceKey(sessionId: string, tab: string): string {
    return createHmac('sha256', this.serviceSecret).update(`service\0${sessionId}\0${tab}`).digest('base64url').slice(0, 22);
  }

  isServiceKey(sessionId: string, tab: string, key: string): boolean {
    const want = Buffer.from(this.serviceKey(sessionId, tab));
    const got = Buffer.from(key);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /** Outstanding (issued, not yet used or swept) tokens of a store in memory; undefined for the database's. */
  get size(): number | undefined {
    return this.table.size;
  }
}

class MemoryTable implements TokenTable {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly maxTokens: number,
    private readonly now: () => number,
  ) {}

  async put(hash: string, entry: Entry): Promise<void> {
    // Expired ones first, then the oldest past maxTokens (a Map keeps insertion order = expiry order).
    for (const [h, e] of this.entries) {
      if (e.expiresAt > this.now() && this.entries.size < this.maxTokens) break;
      this.entries.delete(h);
    }
    this.entries.set(hash, entry);
  }

  async take(hash: string): Promise<Entry | undefined> {
    const entry = this.entries.get(hash);
    this.entries.delete(hash);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Expired rows are swept at most this often, by the replica that issues a token then. */
const SWEEP_EVERY_MS = 60_000;

class DatabaseTable implements TokenTable {
  private sweptAt = 0;
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  async put(hash: string, entry: Entry): Promise<void> {
    if (this.now() - this.sweptAt > SWEEP_EVERY_MS) {
      this.sweptAt = this.now();
      await this.db.terminalToken.deleteMany({ where: { expiresAt: { lte: new Date(this.now()) } } });
    }
    await this.db.terminalToken.create({ data: { hash, claims: JSON.stringify(entry.claims), expiresAt: new Date(entry.expiresAt) } });
  }

  async take(hash: string): Promise<Entry | undefined> {
    // The delete is the claim: of two replicas taking one token, one deletes the row, the other finds none.
    const row = await this.db.terminalToken.delete({ where: { hash } }).catch((e: unknown) => {
      if (lostRace(e)) return undefined;
      throw e;
    });
    if (!row) return undefined;
    return { claims: tokenClaimsSchema.parse(JSON.parse(row.claims)), expiresAt: row.expiresAt.getTime() };
  }

  readonly size = undefined;
}
