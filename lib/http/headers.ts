/**
 * Security headers of every response the server sends: pages, API, static files (server.ts), and
 * service tabs (lib/http/service-proxy.ts).
 *
 * Pages get a Content-Security-Policy with a fresh nonce per request. server.ts writes it into the
 * *request* too: Next reads the nonce from the request's Content-Security-Policy header and puts it
 * on its own scripts (docs: app/guides/content-security-policy); the root layout reads `x-nonce`
 * for its one inline script. This is done in server.ts rather than a Next `proxy.ts`: a proxy makes
 * Next buffer every request body it matches (up to `proxyClientMaxBodySize`, 10 MB) before the
 * route runs, which would undo the body limits of lib/http/route.ts.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { SERVICE_SANDBOX } from './sandbox';

/** Request header carrying the page's nonce to the root layout (set by server.ts, never by a client). */
export const NONCE_HEADER = 'x-nonce';

/** Sent with everything. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'same-origin',
};

export const newNonce = () => crypto.randomBytes(18).toString('base64');

/**
 * Pages: scripts only with this request's nonce (and what they load: 'strict-dynamic', for the
 * chunks Next and xterm import); styles may be inline, because xterm.js and CodeMirror inject
 * style elements without a nonce. Frames: service tabs (same origin, sandboxed) and website tabs
 * (any http(s) URL a lab names).
 */
export function pageCsp(nonce: string, { dev = false } = {}): string {
  return [
    `default-src 'self'`,
    // Dev only: React rebuilds server error stacks with eval.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? ` 'unsafe-eval'` : ''}`,
    `style-src 'self' 'unsafe-inline'`,
    `img-src 'self' data: blob:`,
    `font-src 'self' data:`,
    `connect-src 'self'`,
    `frame-src 'self' http: https:`,
    `worker-src 'self' blob:`,
    `object-src 'none'`,
    `base-uri 'self'`,
    `form-action 'self'`,
    `frame-ancestors 'self'`,
  ].join('; ');
}

/** JSON answers load nothing. */
export const API_CSP = `default-src 'none'; frame-ancestors 'self'`;

/**
 * Service tabs: what the lab's service answers runs sandboxed in an opaque origin, whether in the
 * tab's iframe or opened directly, so it cannot read the platform's cookies or call its API as
 * the learner; only platform pages may frame it.
 */
export const SERVICE_CSP = `sandbox ${SERVICE_SANDBOX}; frame-ancestors 'self'`;

/** Headers (response and request side) for a request Next will answer. */
export function nextHeaders(pathname: string, { dev = false } = {}): { nonce?: string; csp: string } {
  if (pathname.startsWith('/api/')) return { csp: API_CSP };
  const nonce = newNonce();
  return { nonce, csp: pageCsp(nonce, { dev }) };
}

/** No page or API URL of ours comes near this; Next would echo a longer one into the page it renders. */
export const MAX_URL_LENGTH = 2048;

/**
 * For a request Next answers (server.ts): the response's headers, and the request's
 * Content-Security-Policy and `x-nonce` for Next's renderer. Whatever a client sent under those
 * names is replaced, so only our nonce ever reaches a page. Returns false when it answered the
 * request itself: a URL longer than MAX_URL_LENGTH gets 414.
 */
export function secureNextRequest(req: http.IncomingMessage, res: http.ServerResponse, { dev = false } = {}): boolean {
  if ((req.url ?? '').length > MAX_URL_LENGTH) {
    res.writeHead(414, { ...BASE_HEADERS, 'content-security-policy': API_CSP, 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ error: `the URL is longer than ${MAX_URL_LENGTH} characters` }));
    return false;
  }
  let pathname = '/';
  try {
    pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    // a malformed URL is Next's to answer (400); it gets the page policy
  }
  // LTI pages set their own policy (lib/lti/html.ts): an LMS frames the lab picker and the
  // "Return to course" form posts to the LMS, which ours forbids. Only the common headers here.
  if (pathname.startsWith('/lti/')) {
    delete req.headers['content-security-policy'];
    delete req.headers[NONCE_HEADER];
    for (const [k, v] of Object.entries(BASE_HEADERS)) if (k !== 'x-frame-options') res.setHeader(k, v);
    return true;
  }
  const { nonce, csp } = nextHeaders(pathname, { dev });
  delete req.headers['content-security-policy-report-only'];
  req.headers['content-security-policy'] = csp;
  if (nonce) req.headers[NONCE_HEADER] = nonce;
  else delete req.headers[NONCE_HEADER];
  for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
  res.setHeader('content-security-policy', csp);
  return true;
}
