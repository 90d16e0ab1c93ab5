/**
 * Who may see what operators see (the health detail of GET /api/v1/health and /readyz, and
 * GET /metrics): a request from this machine, or one with an operator's Bearer token. One rule,
 * for Next's routes (a Fetch Request) and for the endpoints server.ts answers itself (node's).
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bearerFromHeader } from './bearer';
import { PEER_HEADER } from './limits';

/** The request's Bearer token equals one of `tokens` (unset ones never match); compared in constant time. */
export function bearerMatches(authorization: string | null | undefined, tokens: Array<string | undefined>): boolean {
  const sent = bearerFromHeader(authorization);
  if (!sent) return false;
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  let match = false;
  for (const t of tokens) if (t && crypto.timingSafeEqual(digest(sent), digest(t))) match = true;
  return match;
}

/**
 * A request from this machine: its socket's peer is loopback. A reverse proxy on this machine
 * connects from loopback too, but says whom for in X-Forwarded-For or Forwarded: such a request
 * is local only if everyone it was forwarded for is.
 */
export function fromLoopback(peer: string | null | undefined, header: (name: string) => string | null | undefined): boolean {
  if (!peer || !isLoopback(peer) || header('forwarded')) return false;
  const forwardedFor = (header('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return forwardedFor.every(isLoopback);
}

export const isLoopback = (addr: string) => /^(::ffff:)?127(\.\d{1,3}){3}$/i.test(addr) || addr === '::1' || addr === '[::1]';

/**
 * For Next's routes: server.ts records the socket's peer (a client cannot set it), and Next adds
 * it as X-Forwarded-For when the request has none.
 */
export function isOperatorRequest(req: Request, tokens: Array<string | undefined>): boolean {
  if (bearerMatches(req.headers.get('authorization'), tokens)) return true;
  return fromLoopback(req.headers.get(PEER_HEADER), (name) => req.headers.get(name));
}

/** For what server.ts answers before Next: the socket is at hand. */
export function isOperatorMessage(req: IncomingMessage, tokens: Array<string | undefined>): boolean {
  if (bearerMatches(req.headers.authorization, tokens)) return true;
  return fromLoopback(req.socket.remoteAddress, (name) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  });
}
