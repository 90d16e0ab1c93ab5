/**
 * Shared plumbing for the v1 route handlers: learner identity, body validation,
 * Origin checks on state-changing calls, and mapping errors to JSON with a
 * human message. Route handlers stay a few lines each.
 */
import { z } from 'zod';
import { runtime } from '../runtime';
import { isSessionError, type SessionErrorCode } from '../sessions/errors';
import { learnerCookie, learnerFromCookieHeader, newLearnerId } from '../auth/learner';

const STATUS: Record<SessionErrorCode, number> = { not_found: 404, forbidden: 403, conflict: 409, invalid: 400, unavailable: 503 };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
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
  const existing = learnerFromCookieHeader(req.headers.get('cookie'));
  if (existing) return { learnerId: existing };
  if (!create) throw new HttpError(404, 'session not found');
  const id = newLearnerId();
  return { learnerId: id, newCookie: learnerCookie(id, new URL(req.url).protocol === 'https:') };
}

/** Browsers send Origin on cross-site requests: refuse state changes from other sites. */
export function requireSameOrigin(req: Request): void {
  const origin = req.headers.get('origin');
  if (!origin) return; // non-browser clients (CLI, graders)
  const allowed = runtime().config.allowedOrigins;
  const self = new URL(req.url).origin;
  if (origin !== self && !allowed.includes(origin)) throw new HttpError(403, `origin ${origin} is not allowed`);
}

export async function body<T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T>> {
  const text = await req.text();
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
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

export function json(data: unknown, init: { status?: number; cookie?: string } = {}): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  if (init.cookie) headers.append('set-cookie', init.cookie);
  return new Response(JSON.stringify(data), { status: init.status ?? 200, headers });
}

/** Runs a handler and turns thrown errors into `{error}` JSON with the right status. */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HttpError) return json({ error: e.message }, { status: e.status });
    if (isSessionError(e)) return json({ error: e.message, code: e.code }, { status: STATUS[e.code] });
    runtime().log.error({ err: (e as Error).message, stack: (e as Error).stack }, 'request failed');
    return json({ error: 'internal error: the server log has details' }, { status: 500 });
  }
}

export type RouteParams<T> = { params: Promise<T> };
