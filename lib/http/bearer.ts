/**
 * The Bearer credential of a request, read once here for lib/http/route.ts (Origin checks, the
 * learner cookie) and lib/http/grader.ts (the token). Another scheme (`Basic`, added by a proxy
 * in front of Labforge) is not a grader's: such a request is a browser's like any other.
 */
const BEARER = /^Bearer(?:\s+(.*))?$/i;

/** undefined: no Bearer header; '': a Bearer header without one well-formed token; else the token. */
export function bearerToken(req: Request): string | undefined {
  return bearerFromHeader(req.headers.get('authorization'));
}

/** The same, from an Authorization header's value (node's IncomingMessage, lib/http/probes.ts). */
export function bearerFromHeader(header: string | null | undefined): string | undefined {
  const m = header ? BEARER.exec(header.trim()) : null;
  if (!m) return undefined;
  const token = (m[1] ?? '').trim();
  return /^[\x21-\x7e]{1,512}$/.test(token) ? token : '';
}

/** A grader's request: its credential is the token it sends, never the cookie. */
export const isBearer = (req: Request) => bearerToken(req) !== undefined;
