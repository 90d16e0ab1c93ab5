/**
 * Service tabs: `/svc/<session>/<tab>/<key>/<path>` is proxied, HTTP and WebSocket,
 * to the port a lab's service tab names, in that tab's host, only to the hosts and
 * port the lab declares.
 *
 * What the service answers is the learner's (they are root in the host): it runs
 * sandboxed. The tab's iframe has `sandbox` without allow-same-origin, and every
 * proxied response carries `Content-Security-Policy: sandbox …` (so opening the URL
 * directly is sandboxed too): its scripts run in an opaque origin and can read
 * neither the platform's cookies nor its API. Set-Cookie from the service is dropped,
 * and the learner cookie is not passed on to it.
 *
 * An opaque origin's requests carry no cookies (they are cross-site), so the key in
 * the path is what authorises them: an HMAC of session and tab (TokenStore.serviceKey)
 * that only the session's owner gets (GET /api/v1/sessions/:id/services/:tab).
 * Because the service's own fetches are cross-origin from its opaque origin, answers
 * to `Origin: null` allow that origin (CORS, no credentials), and the proxy answers
 * preflights itself.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { LEARNER_COOKIE } from '../auth/learner';
import { SERVICE_CSP } from './headers';
import { originAllowed } from './origin';
import { SESSION_ERROR_STATUS } from './status';
import type { Logger } from '../base/log';

export const SERVICE_PREFIX = '/svc/';

/** The URL of a service tab, with its key. */
export const serviceUrl = (sessionId: string, tab: string, key: string) => `${SERVICE_PREFIX}${sessionId}/${tab}/${key}/`;

export interface ServiceTarget {
  address: string;
  port: number;
}

export interface ServiceProxyOptions {
  /** Throws (with a human message, and `code: 'not_found'` for 404) when the tab cannot be reached now. */
  resolve: (sessionId: string, tab: string) => Promise<ServiceTarget>;
  /** Whether `key` is this session and tab's key (TokenStore.isServiceKey). */
  isKey: (sessionId: string, tab: string, key: string) => boolean;
  allowedOrigins: string[];
  log: Logger;
  /** How long a resolved target is reused: pages load many assets at once. */
  cacheMs?: number;
}

interface Parsed {
  sessionId: string;
  tab: string;
  key: string;
  /** Path and query for the service, always starting with `/`. */
  rest: string;
  prefix: string;
}

/** `/svc/abc/grafana/KEY/d/x?y=1` → {sessionId: abc, tab: grafana, key: KEY, rest: /d/x?y=1, prefix: /svc/abc/grafana/KEY}. */
export function parseServiceUrl(url: string): Parsed | undefined {
  if (!url.startsWith(SERVICE_PREFIX)) return undefined;
  const m = /^\/svc\/([a-z0-9]{1,64})\/([a-z0-9-]{1,128})\/([A-Za-z0-9_-]{22})(\/[^]*)?$/.exec(url.replace(/\?.*$/, ''));
  if (!m) return undefined;
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  return { sessionId: m[1], tab: m[2], key: m[3], rest: (m[4] ?? '/') + query, prefix: `${SERVICE_PREFIX}${m[1]}/${m[2]}/${m[3]}` };
}

/** Drops our own cookie from what the service sees. */
export function withoutLearnerCookie(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  const kept = cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && !c.startsWith(`${LEARNER_COOKIE}=`));
  return kept.length ? kept.join('; ') : undefined;
}

/**
 * The service's answer headers as the browser gets them: no cookies (the service runs in an
 * opaque origin, and must not set cookies on the platform's), the sandbox policy added to its
 * own, no Referer carrying the key elsewhere, redirects kept under the prefix, and CORS for its
 * own opaque origin.
 */
export function serviceResponseHeaders(upstream: http.IncomingHttpHeaders, p: { prefix: string }, origin: string | undefined): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = { ...upstream };
  delete headers['set-cookie'];
  // The service's own policy stays (policies add up); ours makes the answer sandboxed.
  const own = upstream['content-security-policy'];
  Object.assign(headers, { 'content-security-policy': [own ?? [], SERVICE_CSP].flat() });
  headers['referrer-policy'] = 'no-referrer';
  headers['x-content-type-options'] = 'nosniff';
  if (typeof headers.location === 'string') headers.location = rewriteLocation(headers.location, p.prefix);
  if (origin === 'null') {
    headers['access-control-allow-origin'] = 'null';
    delete headers['access-control-allow-credentials'];
    headers.vary = headers.vary ? `${String(headers.vary)}, Origin` : 'Origin';
  }
  return headers;
}

/** A redirect to `/login` from the service must stay under the tab's prefix. */
export function rewriteLocation(location: string, prefix: string): string {
  return location.startsWith('/') && !location.startsWith('//') ? `${prefix}${location}` : location;
}

export type ServiceProxy = ReturnType<typeof createServiceProxy>;

export function createServiceProxy(opts: ServiceProxyOptions) {
  const log = opts.log.child({ module: 'service-proxy' });
  /** Open WebSocket tunnels, ended by close() so a shutdown leaves no connection to a learner host. */
  const tunnels = new Set<() => void>();
  const cacheMs = opts.cacheMs ?? 5_000;
  const cache = new Map<string, { target: ServiceTarget; at: number }>();

  async function target(p: Parsed): Promise<ServiceTarget> {
    if (!opts.isKey(p.sessionId, p.tab, p.key)) throw Object.assign(new Error('service not found'), { status: 404 });
    const key = `${p.sessionId}:${p.tab}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < cacheMs) return hit.target;
    const t = await opts.resolve(p.sessionId, p.tab).catch((e: Error & { code?: string }) => {
      throw Object.assign(new Error(e.message), { status: SESSION_ERROR_STATUS[e.code as keyof typeof SESSION_ERROR_STATUS] ?? 409 });
    });
    cache.set(key, { target: t, at: Date.now() });
    return t;
  }

  function forwardHeaders(req: http.IncomingMessage, p: Parsed, t: ServiceTarget): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: `${t.address}:${t.port}` };
    for (const name of Object.keys(headers)) if (name.startsWith('x-labforge-')) delete headers[name]; // the platform's own
    const cookie = withoutLearnerCookie(req.headers.cookie);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers['x-forwarded-prefix'] = p.prefix;
    headers['x-forwarded-host'] = req.headers.host;
    return headers;
  }

  /** Returns false when the request is not under /svc/; a malformed one (no key, overlong ids) is a 404 here. */
  function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (!(req.url ?? '').startsWith(SERVICE_PREFIX)) return false;
    const p = parseServiceUrl(req.url ?? '');
    if (!p) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-security-policy': SERVICE_CSP, 'x-content-type-options': 'nosniff' });
      res.end('service not found\n');
      return true;
    }
    const origin = req.headers.origin;
    // The service's page fetching its own URLs from its opaque origin: CORS preflights are ours to answer.
    if (req.method === 'OPTIONS' && origin === 'null' && req.headers['access-control-request-method']) {
      if (!opts.isKey(p.sessionId, p.tab, p.key)) {
        res.writeHead(404).end();
        return true;
      }
      const asked = String(req.headers['access-control-request-headers'] ?? '').slice(0, 1000);
      res.writeHead(204, {
        'access-control-allow-origin': 'null',
        'access-control-allow-methods': String(req.headers['access-control-request-method']).slice(0, 20),
        ...(asked ? { 'access-control-allow-headers': asked } : {}),
        'access-control-max-age': '600',
        vary: 'Origin',
      });
      res.end();
      return true;
    }
    void target(p).then(
      (t) => {
        const upstream = http.request({ host: t.address, port: t.port, method: req.method, path: p.rest, headers: forwardHeaders(req, p, t) }, (up) => {
          res.writeHead(up.statusCode ?? 502, serviceResponseHeaders(up.headers, p, origin));
          up.pipe(res);
        });
        upstream.on('error', (e) => {
          log.info({ session: p.sessionId, tab: p.tab, err: e.message }, 'service not answering');
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-security-policy': SERVICE_CSP });
          res.end(`The service on port ${t.port} is not answering (${e.message}). It may still be starting: reload in a moment.\n`);
        });
        req.pipe(upstream);
      },
      (e: Error & { status?: number }) => {
        res.writeHead(e.status ?? 502, {
          'content-type': 'text/plain; charset=utf-8',
          'content-security-policy': SERVICE_CSP,
          'x-content-type-options': 'nosniff',
        });
        res.end(`${e.message}\n`);
      },
    );
    return true;
  }

  /** WebSocket (or any Upgrade) to the service: a raw tunnel once the request line is rewritten. */
  function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (!(req.url ?? '').startsWith(SERVICE_PREFIX)) return false;
    const p = parseServiceUrl(req.url ?? '');
    if (!p) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return true;
    }
    // `null`: the service's own page, sandboxed in an opaque origin (the key authorises it).
    if (!originAllowed(req.headers.origin, { allowed: opts.allowedOrigins, missing: 'allow', opaque: 'allow' })) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return true;
    }
    void target(p).then(
      (t) => {
        const upstream = net.connect(t.port, t.address, () => {
          const headers = forwardHeaders(req, p, t);
          const lines = [`${req.method} ${p.rest} HTTP/1.1`];
          for (const [k, v] of Object.entries(headers)) {
            for (const value of Array.isArray(v) ? v : [v]) if (value !== undefined) lines.push(`${k}: ${value}`);
          }
          upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
          if (head.length) upstream.write(head);
          upstream.pipe(socket).pipe(upstream);
        });
        const close = () => (upstream.destroy(), socket.destroy());
        tunnels.add(close);
        upstream.on('error', close);
        upstream.on('close', () => tunnels.delete(close));
        socket.on('error', close);
        socket.on('close', () => upstream.destroy());
      },
      (e: Error & { status?: number }) => socket.end(`HTTP/1.1 ${e.status ?? 502} Error\r\nConnection: close\r\n\r\n`),
    );
    return true;
  }

  /** Ends every open tunnel (and with it the browser's side). */
  function close(): void {
    for (const end of tunnels) end();
    tunnels.clear();
  }

  return { handleRequest, handleUpgrade, close };
}
