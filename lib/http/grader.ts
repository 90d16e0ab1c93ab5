/**
 * Graders at the edge: a request with `Authorization: Bearer <token>` acts with an API token
 * (lib/auth/api-tokens.ts) instead of the learner cookie, which is then ignored. The session layer
 * knows only learner ids, so a grader acting on a session is resolved here to that session's
 * learner, once the session's lab is in the token's scope: every session route asks
 * `sessionCaller` where it used to ask `caller`, and everything below works unchanged.
 *
 * Answers: no Bearer header on a grader-only call, or a malformed one, 401 with WWW-Authenticate;
 * a token that is unknown, revoked or expired, 401 saying which; a session of a lab outside the
 * token's scope, 404 like any session the caller cannot see (its existence is not leaked); a lab
 * outside the scope named by the caller (starting a session), 403 naming it.
 */
import { ApiTokens, type GraderToken } from '../auth/api-tokens';
import { mayUseLab, sessionInScope } from '../auth/token-scope';
import type { SessionRow } from '../db/client';
import { runtime } from '../runtime/index';
import { bearerToken } from './bearer';
import { HttpError, caller, quote, type Caller } from './route';

export type { GraderToken } from '../auth/api-tokens';

const REALM = 'Bearer realm="labforge"';

function unauthorized(message: string, error?: 'invalid_request' | 'invalid_token'): HttpError {
  // RFC 6750: the challenge names the error too; a quote would end its quoted string, so none stays in.
  const challenge = error ? `${REALM}, error="${error}", error_description="${message.replace(/["\\]/g, "'")}"` : REALM;
  return new HttpError(401, message, { code: 'unauthorized', headers: { 'www-authenticate': challenge } });
}

/** The verified token of a Bearer request; undefined for a request without one (a browser's). */
export async function graderOf(req: Request): Promise<GraderToken | undefined> {
  const presented = bearerToken(req);
  if (presented === undefined) return undefined;
  if (!presented) throw unauthorized('the Authorization header should be "Bearer <token>", with a token from labforge tokens create', 'invalid_request');
  const verified = await new ApiTokens(runtime().db).verify(presented);
  if (!verified.ok) throw unauthorized(verified.reason, 'invalid_token');
  return verified.token;
}

/** For calls only graders make: their token, or 401 with the challenge. */
export async function requireGrader(req: Request): Promise<GraderToken> {
  const token = await graderOf(req);
  if (!token) throw unauthorized('this call needs a grader token: send Authorization: Bearer <token> (labforge tokens create)');
  return token;
}

/** Starting a session of a lab the token does not name: the lab is the caller's own word, so say which. */
export function requireLab(token: GraderToken, lab: string): void {
  if (!mayUseLab(token, lab)) throw new HttpError(403, `this token may not use the lab ${quote(lab)}`, { code: 'forbidden' });
}

/** A session the token may act on; 404 (like an unknown one) for a session of another lab. */
export async function graderSession(token: GraderToken, id: string): Promise<SessionRow> {
  const row = await sessionInScope(runtime().db, token, id);
  if (!row) throw new HttpError(404, 'session not found');
  return row;
}

export interface SessionCaller extends Caller {
  /** Set when a grader's token made the request. */
  grader?: GraderToken;
}

/**
 * Who acts on session `id`: the learner of the cookie, or, for a grader, the session's own learner.
 * `terminals`: the call opens a terminal, which a token may do only if it was created with --terminals.
 */
export async function sessionCaller(req: Request, id: string, { terminals = false } = {}): Promise<SessionCaller> {
  const grader = await graderOf(req);
  if (!grader) return caller(req);
  const row = await graderSession(grader, id);
  if (terminals && !grader.terminals)
    throw new HttpError(403, 'this token may not open terminals (create one with labforge tokens create --terminals)', { code: 'forbidden' });
  return { learnerId: row.learnerId, grader };
}
