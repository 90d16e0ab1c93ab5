/**
 * Shared plumbing for the v1 route handlers: learner identity, body validation,
 * Origin checks on state-changing calls, and mapping errors to JSON with a
 * human message. Route handlers stay a few lines each.
 *
 * Input is bounded before it is used: bodies are read as a stream up to a byte
 * limit (413 past it, without reading the rest), path identifiers are checked
 * against their pattern and length first, and no error quotes more than a few
 * dozen characters of what the client sent.
 *
 * A database that cannot be written (read-only, disk full, I/O error) answers
 * 503 with what is wrong and that nothing was saved (lib/db/faults.ts), not a
 * 500: SQLite rolled the change back, and the same request works once it clears.
 */
import { z } from 'zod';
import { runtime } from '../runtime/index';
import { isSessionError } from '../sessions/errors';
import { learnerCookie, learnerFromCookieHeader, newLearnerId } from '../auth/learner';
import { storageFault, storageMessage, storageReason, type StorageFault } from '../db/faults';
import { databaseFile } from '../db/provider';
import { noteStorageFault, recoverFrom } from '../db/health';
import { isBearer } from './bearer';
import { originAllowed } from './origin';
import { readBody } from './read-body';
import { ACCOUNT_ERROR_STATUS, SESSION_ERROR_STATUS } from './status';
import { isAccountError } from '../accounts/errors';
import { SessionIdSchema, SlugSchema, TabIdSchema } from './api/requests';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** `retryAfter`: seconds, sent as Retry-After (429, 503); `code`: a machine-readable reason in the body; `headers`: e.g. WWW-Authenticate. */
    readonly extra: { retryAfter?: number; code?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

export interface Caller {
  learnerId: string;
  /** Set when this request created the learner: the response must carry the cookie. */
  newCookie?: string;
}

export function caller(req: Request, { create = false } = {}): Caller {
  // A Bearer request is a grader's: acting with the cookie that came along would not be what it asked for.
  if (isBearer(req)) throw new HttpError(400, 'this call is made by a browser with its learner cookie; it takes no Bearer token');
  const existing = learnerFromCookieHeader(req.headers.get('cookie'));
  if (existing) return { learnerId: existing };
  if (!create) throw new HttpError(404, 'session not found');
  const id = newLearnerId();
  return { learnerId: id, newCookie: learnerCookie(id, new URL(req.url).protocol === 'https:') };
}

/** Browsers send Origin on cross-site requests: refuse state changes from other sites. */
export function requireSameOrigin(req: Request): void {
  // The check stops a page on another site from riding the learner's cookie, which a browser adds
  // by itself. A Bearer request ignores the cookie and is authorised only by the token it carries,
  // which no browser adds on its own (nor would it send that header cross-site without a CORS
  // preflight we never grant): there is no ambient credential for the check to protect.
  if (isBearer(req)) return;
  const origin = req.headers.get('origin');
  if (!origin) return; // non-browser clients (CLI, graders): the runtime's config is not needed
  if (!originAllowed(origin, { allowed: runtime().config.allowedOrigins, self: new URL(req.url).origin, missing: 'refuse' }))
    throw new HttpError(403, `origin ${quote(origin)} is not allowed`);
}

/**
 * Client input inside a message: at most `max` characters of it, in quotes, and its length when
 * it was cut (`"aaaa…" (50000000 characters)`), so an error never echoes a body back.
 */
export function quote(value: string, max = 64): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length <= max ? `"${clean}"` : `"${clean.slice(0, max)}…" (${value.length} characters)`;
}

/** JSON bodies of the API carry a few identifiers and answers. */
export const JSON_BODY_LIMIT = 64 * 1024;

const size = (n: number) => (n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`);
const tooLarge = (limit: number) => new HttpError(413, `the request body is larger than ${size(limit)}`);

/** A JSON body of at most `limit` bytes (64 KiB unless the route says otherwise), validated by `schema`. */
export async function body<T extends z.ZodType>(req: Request, schema: T, { limit = JSON_BODY_LIMIT } = {}): Promise<z.infer<T>> {
  const text = await readBody(req, limit, () => tooLarge(limit));
  let raw: unknown = {};
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // A path and zod's message can carry client input (an unknown key's name): both stay short.
    const where = issue.path.map((p) => (typeof p === 'string' ? quote(p, 32).slice(1, -1) : String(p))).join('.') || 'body';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
            .slice(0, 3)
            .map((k) => quote(k, 32))
            .join(', ')}${issue.keys.length > 3 ? ', …' : ''}`
        : cap(issue.message);
    throw new HttpError(400, `${where}: ${message}`);
  }
  return parsed.data;
}

/** Identifiers in API paths, with what a malformed one is answered (like an unknown one). */
const PATH_IDS: Record<string, { schema: z.ZodType; missing: string }> = {
  id: { schema: SessionIdSchema, missing: 'session not found' },
  tab: { schema: TabIdSchema, missing: 'no such tab' },
  slug: { schema: SlugSchema, missing: 'no such lab' },
};

/** Awaits a route's params and checks each identifier it knows (`id`, `tab`, `slug`) before anything looks it up. */
export async function pathIds<T extends Record<string, string>>(params: Promise<T>): Promise<T> {
  const p = await params;
  for (const [key, value] of Object.entries(p)) {
    const rule = PATH_IDS[key];
    if (rule && !rule.schema.safeParse(value).success) throw new HttpError(404, rule.missing);
  }
  return p;
}

/** The last line of defence for messages built elsewhere: no error body grows with the input. */
const cap = (message: string, max = 300) => (message.length <= max ? message : `${message.slice(0, max)}… (cut)`);

export function json(data: unknown, init: { status?: number; cookie?: string; retryAfter?: number; headers?: Record<string, string> } = {}): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store', ...init.headers });
  if (init.cookie) headers.append('set-cookie', init.cookie);
  if (init.retryAfter !== undefined) headers.set('retry-after', String(init.retryAfter));
  return new Response(JSON.stringify(data), { status: init.status ?? 200, headers });
}

/** Runs a handler and turns thrown errors into `{error}` JSON with the right status. */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    // A 413 leaves the rest of the body unread: close the connection rather than drain it.
    const close = e instanceof HttpError && e.status === 413 ? { connection: 'close' } : undefined;
    if (e instanceof HttpError)
      return json(
        { error: cap(e.message), ...(e.extra.code ? { code: e.extra.code } : {}) },
        { status: e.status, retryAfter: e.extra.retryAfter, headers: { ...close, ...e.extra.headers } },
      );
    if (isSessionError(e)) return json({ ...e.details, error: cap(e.message), code: e.code }, { status: SESSION_ERROR_STATUS[e.code] });
    if (isAccountError(e)) return json({ error: cap(e.message), code: e.code }, { status: ACCOUNT_ERROR_STATUS[e.code] });
    const fault = storageFault(e);
    if (fault) return storageUnavailable(fault);
    runtime().log.error({ err: (e as Error).message, stack: (e as Error).stack }, 'request failed');
    return json({ error: 'internal error: the server log has details' }, { status: 500 });
  }
}

/** Seconds a client is asked to wait after a storage fault (operators usually need longer; clients retry). */
const STORAGE_RETRY_AFTER = 5;

async function storageUnavailable(fault: StorageFault): Promise<Response> {
  const rt = runtime();
  const url = rt.config.databaseUrl;
  const reason = await storageReason(fault, databaseFile(url));
  noteStorageFault(fault, reason);
  rt.log.warn({ code: fault.code, reason }, 'a request could not be saved: the database cannot be written');
  // A connection left read-only by a fault that has cleared is reopened, so the retry works.
  await recoverFrom(rt.db, fault, url, rt.log).catch(() => false);
  return json({ error: cap(storageMessage(reason), 600), code: 'storage' }, { status: 503, retryAfter: STORAGE_RETRY_AFTER });
}

export type RouteParams<T> = { params: Promise<T> };
