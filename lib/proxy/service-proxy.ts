/**
 * Service tabs: `/svc/<session>/<tab>/<path>` is proxied, HTTP and WebSocket,
 * to the port a lab's service tab names, in that tab's host. Only the learner
 * who owns the session gets through (their cookie), only to the hosts and port
 * the lab declares; the learner cookie is not passed on to the service.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { LEARNER_COOKIE, learnerFromCookieHeader } from '../auth/learner';
import type { Logger } from '../log';

export const SERVICE_PREFIX = '/svc/';

export interface ServiceTarget {
  address: string;
  port: number;
}

export interface ServiceProxyOptions {
  /** Throws (with a human message) when the caller may not reach that tab. */
  resolve: (sessionId: string, learnerId: string, tab: string) => Promise<ServiceTarget>;
  allowedOrigins: string[];
  log: Logger;
  /** How long a resolved target is reused: pages load many assets at once. */
  cacheMs?: number;
}

interface Parsed {
  sessionId: string;
  tab: string;
  /** Path and query for the service, always starting with `/`. */
  rest: string;
  prefix: string;
}

/** `/svc/abc/grafana/d/x?y=1` → {sessionId: abc, tab: grafana, rest: /d/x?y=1}. */
export function parseServiceUrl(url: string): Parsed | undefined {
  if (!url.startsWith(SERVICE_PREFIX)) return undefined;
  const m = /^\/svc\/([a-z0-9]+)\/([a-z0-9-]+)(\/[^]*)?$/.exec(url.replace(/\?.*$/, ''));
  if (!m) return undefined;
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  return { sessionId: m[1], tab: m[2], rest: (m[3] ?? '/') + query, prefix: `${SERVICE_PREFIX}${m[1]}/${m[2]}` };
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

/** A redirect to `/login` from the service must stay under the tab's prefix. */
export function rewriteLocation(location: string, prefix: string): string {
  return location.startsWith('/') && !location.startsWith('//') ? `${prefix}${location}` : location;
}

export function createServiceProxy(opts: ServiceProxyOptions) {
  const log = opts.log.child({ module: 'service-proxy' });
  const cacheMs = opts.cacheMs ?? 5_000;
  const cache = new Map<string, { target: ServiceTarget; at: number }>();

  async function target(p: Parsed, cookieHeader: string | undefined): Promise<ServiceTarget> {
    const learner = learnerFromCookieHeader(cookieHeader);
    if (!learner) throw Object.assign(new Error('session not found'), { status: 404 });
    const key = `${learner}:${p.sessionId}:${p.tab}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < cacheMs) return hit.target;
    const t = await opts.resolve(p.sessionId, learner, p.tab).catch((e: Error & { code?: string }) => {
      throw Object.assign(new Error(e.message), { status: e.code === 'not_found' ? 404 : 409 });
    });
    cache.set(key, { target: t, at: Date.now() });
    return t;
  }

  function forwardHeaders(req: http.IncomingMessage, p: Parsed, t: ServiceTarget): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: `${t.address}:${t.port}` };
    const cookie = withoutLearnerCookie(req.headers.cookie);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers['x-forwarded-prefix'] = p.prefix;
    headers['x-forwarded-host'] = req.headers.host;
    return headers;
  }

  /** Returns false when the request is not for a service tab. */
  function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const p = parseServiceUrl(req.url ?? '');
    if (!p) return false;
    void target(p, req.headers.cookie).then(
      (t) => {
        const upstream = http.request({ host: t.address, port: t.port, method: req.method, path: p.rest, headers: forwardHeaders(req, p, t) }, (up) => {
          const headers = { ...up.headers };
          if (typeof headers.location === 'string') headers.location = rewriteLocation(headers.location, p.prefix);
          res.writeHead(up.statusCode ?? 502, headers);
          up.pipe(res);
        });
        upstream.on('error', (e) => {
          log.info({ session: p.sessionId, tab: p.tab, err: e.message }, 'service not answering');
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`The service on port ${t.port} is not answering (${e.message}). It may still be starting: reload in a moment.\n`);
        });
        req.pipe(upstream);
      },
      (e: Error & { status?: number }) => {
        res.writeHead(e.status ?? 502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${e.message}\n`);
      },
    );
    return true;
  }

  /** WebSocket (or any Upgrade) to the service: a raw tunnel once the request line is rewritten. */
  function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const p = parseServiceUrl(req.url ?? '');
    if (!p) return false;
    const origin = req.headers.origin;
    if (origin && !opts.allowedOrigins.includes(origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return true;
    }
    void target(p, req.headers.cookie).then(
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
        upstream.on('error', close);
        socket.on('error', close);
        socket.on('close', () => upstream.destroy());
      },
      (e: Error & { status?: number }) => socket.end(`HTTP/1.1 ${e.status ?? 502} Error\r\nConnection: close\r\n\r\n`),
    );
    return true;
  }

  return { handleRequest, handleUpgrade };
}
