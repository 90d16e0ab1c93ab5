/**
 * API tokens: the credentials of automated graders (`Authorization: Bearer lf_…`, lib/http/grader.ts).
 * A token is 32 random bytes behind a recognisable prefix, shown once when it is created; the
 * database keeps only its SHA-256, so a copy of the database gives no working token. Each token is
 * scoped to the labs it names (or to all labs, only when asked for explicitly) and may open
 * learners' terminals only when created with `terminals`.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client';
import type { ApiToken } from '../db/generated/client';

/** What every token starts with, so one found in a log or a repository is recognisable (and scannable). */
export const TOKEN_PREFIX = 'lf_';
const TOKEN_SHAPE = /^lf_[A-Za-z0-9_-]{43}$/;
/** Stored in `labs` for a token created with --all-labs. */
const ALL_LABS = '*';
/** lastUsedAt is a hint for operators: written at most this often, not on every request. */
const LAST_USED_EVERY_MS = 60_000;

export const TokenNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a token name is a short slug: up to 40 lowercase letters, digits and dashes, e.g. ci or grader-eu');
/** Lab slugs as lab folders name them (lib/labs/schema.ts). */
export const LabSlugSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a lab is named by its slug: lowercase letters, digits and dashes');

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_LIFETIME_MS = 3650 * UNITS.d;

/** `30d`, `12h`, `90m` → milliseconds; anything else is an Error saying what is expected. */
export function parseLifetime(text: string): number {
  const m = /^(\d{1,7})([mhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]] : NaN;
  if (!m || ms <= 0 || ms > MAX_LIFETIME_MS)
    throw new TokenError(`--expires should be a number of days, hours or minutes, e.g. 30d, 12h or 90m (at most 3650d), not "${text.slice(0, 20)}"`);
  return ms;
}

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** A refusal with a message for the person at the CLI or the grader's logs. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** A verified token, as the HTTP layer acts with it. `hash` keys what is derived from it (on-behalf.ts). */
export interface GraderToken {
  id: string;
  name: string;
  /** Lab slugs, or 'all' for a token created with --all-labs. */
  labs: string[] | 'all';
  terminals: boolean;
  hash: string;
}

/** What `list` shows of a token: everything but the token, which is not stored. */
export interface TokenInfo {
  name: string;
  labs: string[] | 'all';
  terminals: boolean;
  status: 'active' | 'revoked' | 'expired';
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export const CreateTokenSchema = z
  .object({
    name: TokenNameSchema,
    labs: z.array(LabSlugSchema).max(200).optional(),
    allLabs: z.boolean().default(false),
    /** Lifetime, e.g. `30d`; none: the token lasts until it is revoked. */
    expires: z.string().optional(),
    terminals: z.boolean().default(false),
  })
  .strict()
  .refine((t) => t.allLabs !== !!t.labs?.length, {
    message: 'a token is scoped to labs: name at least one (--labs a,b), or pass --all-labs to allow every lab (not both)',
  });
export type CreateToken = z.input<typeof CreateTokenSchema>;

export type Verified = { ok: true; token: GraderToken } | { ok: false; reason: string };

export class ApiTokens {
  constructor(
    private db: Db,
    private now: () => Date = () => new Date(),
  ) {}

  /** A new token: the returned `token` is the only copy there will ever be. */
  async create(input: CreateToken): Promise<{ token: string; info: TokenInfo }> {
    const parsed = CreateTokenSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const lab = issue.path[0] === 'labs' && typeof issue.path[1] === 'number' ? input.labs?.[issue.path[1]] : undefined;
      throw new TokenError(lab === undefined ? issue.message : `"${String(lab).slice(0, 64)}": ${issue.message}`);
    }
    const { name, labs, allLabs, expires, terminals } = parsed.data;
    const expiresAt = expires === undefined ? null : new Date(this.now().getTime() + parseLifetime(expires));
    const existing = await this.db.apiToken.findUnique({ where: { name } });
    if (existing) throw nameTaken(existing);
    const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
    const stored = allLabs ? [ALL_LABS] : [...new Set(labs)];
    try {
      const row = await this.db.apiToken.create({
        data: { id: crypto.randomBytes(12).toString('hex'), name, hash: hashToken(token), labs: JSON.stringify(stored), terminals, expiresAt },
      });
      return { token, info: this.info(row) };
    } catch (e) {
      // Two creates with one name at once: the unique index decides.
      if ((e as { code?: string }).code === 'P2002') throw new TokenError(`a token named "${name}" already exists: pick another name`);
      throw e;
    }
  }

  /** Every token, oldest first. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.apiToken.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map((r) => this.info(r));
  }

  /** Revokes the token named `name` at once (its next request is refused); revoking twice changes nothing. */
  async revoke(name: string): Promise<TokenInfo> {
    const row = await this.db.apiToken.findUnique({ where: { name } });
    if (!row) throw new TokenError(`no token is named "${name.slice(0, 40)}" (labforge tokens list shows them)`);
    if (row.revokedAt) return this.info(row);
    return this.info(await this.db.apiToken.update({ where: { id: row.id }, data: { revokedAt: this.now() } }));
  }

  /**
   * The token a grader presented, or why it is refused. It is looked up by its SHA-256 through the
   * unique index, never compared as text: how long a lookup takes depends on a hash the caller
   * cannot steer towards a stored one, so timing tells nothing about the tokens that exist.
   */
  async verify(presented: string): Promise<Verified> {
    if (!TOKEN_SHAPE.test(presented)) return { ok: false, reason: `this is not a Labforge API token: they are "${TOKEN_PREFIX}" and 43 more characters` };
    const row = await this.db.apiToken.findUnique({ where: { hash: hashToken(presented) } });
    if (!row) return { ok: false, reason: 'this token is not known here: it may be mistyped, or from another Labforge (labforge tokens list)' };
    const now = this.now();
    if (row.revokedAt) return { ok: false, reason: `this token ("${row.name}") was revoked on ${row.revokedAt.toISOString()}` };
    if (row.expiresAt && row.expiresAt <= now) return { ok: false, reason: `this token ("${row.name}") expired on ${row.expiresAt.toISOString()}` };
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_EVERY_MS) await this.noteUse(row.id, now);
    return { ok: true, token: { id: row.id, name: row.name, labs: labsOf(row), terminals: row.terminals, hash: row.hash } };
  }

  /** A hint, never a reason to refuse: a database that cannot be written right now does not stop graders. */
  private async noteUse(id: string, now: Date): Promise<void> {
    const stale = new Date(now.getTime() - LAST_USED_EVERY_MS);
    await this.db.apiToken
      .updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: stale } }] }, data: { lastUsedAt: now } })
      .catch(() => undefined);
  }

  private info(row: ApiToken): TokenInfo {
    const status = row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt <= this.now() ? 'expired' : 'active';
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      name: row.name,
      labs: labsOf(row),
      terminals: row.terminals,
      status,
      createdAt: row.createdAt.toISOString(),
      expiresAt: iso(row.expiresAt),
      revokedAt: iso(row.revokedAt),
      lastUsedAt: iso(row.lastUsedAt),
    };
  }
}

/** A row whose labs cannot be read grants none (it fails closed). */
function labsOf(row: ApiToken): string[] | 'all' {
  let labs: string[] = [];
  try {
    labs = z.array(z.string()).catch([]).parse(JSON.parse(row.labs));
  } catch {
    // not JSON: no labs
  }
  return labs.includes(ALL_LABS) ? 'all' : labs;
}

/** Names stay taken after a revoke, so the audit trail (sessions' tokenId, events) never points at two tokens. */
function nameTaken(row: ApiToken): TokenError {
  return new TokenError(`a token named "${row.name}" already exists${row.revokedAt ? ' (revoked: names are not reused)' : ''}: pick another name`);
}
