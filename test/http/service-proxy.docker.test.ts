/**
 * Service tabs through the real proxy to a real HTTP server in a container:
 * path rewriting, redirects kept under the tab's prefix, the learner cookie
 * kept from the service, access only with the tab's key, the service's answers
 * sandboxed and without cookies, and Upgrade tunnels.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { dockerHostSchema } from '../../lib/labs/schema';
import type { Environment } from '../../lib/environments/driver';
import { createServiceProxy, parseServiceUrl, rewriteLocation, serviceUrl, withoutLearnerCookie } from '../../lib/http/service-proxy';
import { TokenStore } from '../../lib/auth/tokens';
import { log } from '../../lib/base/log';

const driver = new DockerDriver();
const owner = `test-svc-${process.pid}`;
const LEARNER = 'L'.repeat(32);
const tokens = new TokenStore();
const KEY = tokens.serviceKey('sess1', 'web');
/** The tab's URL as the page gets it, e.g. /svc/sess1/web/<key>/. */
const WEB = serviceUrl('sess1', 'web', KEY).slice(0, -1);
// Answers every request with a redirect to /login, a cookie and a policy of its own and, as the body, the request line and headers it got.
const ECHO = `#!/bin/bash
req=""
while IFS= read -r line; do line=\${line%$'\\r'}; [ -z "$line" ] && break; req+="$line"$'\\n'; done
printf 'HTTP/1.0 302 Found\\r\\nLocation: /login\\r\\nSet-Cookie: grafana_session=abc; Path=/\\r\\nContent-Security-Policy: img-src *\\r\\nContent-Type: text/plain\\r\\n\\r\\n%s' "$req"
`;
let env: Environment;
let server: http.Server;
let base: string;

beforeAll(async () => {
  env = await driver.create(
    { owner, lab: 'svc-test', labRoot: '/tmp', environment: { driver: 'docker', hosts: [dockerHostSchema.parse({ name: 'web', image: 'labforge/base' })] } },
    () => {},
  );
  await driver.writeFile(env, 'web', '/srv/echo.sh', ECHO, 0o755);
  await driver.exec(env, 'web', ['sh', '-c', 'nohup socat TCP-LISTEN:8080,fork,reuseaddr EXEC:/srv/echo.sh >/dev/null 2>&1 &']);
  const address = env.hosts[0].address!;
  const proxy = createServiceProxy({
    allowedOrigins: ['http://localhost'],
    log,
    isKey: (sessionId, tab, key) => tokens.isServiceKey(sessionId, tab, key),
    resolve: async (sessionId, tab) => {
      if (sessionId !== 'sess1') throw Object.assign(new Error('session not found'), { code: 'not_found' });
      if (tab !== 'web') throw Object.assign(new Error(`no service tab "${tab}"`), { code: 'not_found' });
      return { address, port: 8080 };
    },
  });
  server = http.createServer((req, res) => {
    if (!proxy.handleRequest(req, res)) res.writeHead(418).end();
  });
  server.on('upgrade', (req, socket, head) => proxy.handleUpgrade(req, socket, head) || socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // socat needs a moment to listen
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(`${base}${WEB}/`, { redirect: 'manual' }).then(
      (r) => r.status === 302,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 180_000);

afterAll(async () => {
  server?.close();
  await driver.destroyOwner(owner);
});

describe('service proxy', () => {
  it('parses and rewrites what it must', () => {
    const k = 'K'.repeat(22);
    expect(parseServiceUrl(`/svc/abc/grafana/${k}/d/x?y=1`)).toEqual({
      sessionId: 'abc',
      tab: 'grafana',
      key: k,
      rest: '/d/x?y=1',
      prefix: `/svc/abc/grafana/${k}`,
    });
    expect(parseServiceUrl(`/svc/abc/grafana/${k}`)?.rest).toBe('/');
    expect(parseServiceUrl('/svc/abc/grafana/d/x')).toBeUndefined(); // no key
    expect(parseServiceUrl(`/svc/${'a'.repeat(65)}/grafana/${k}/`)).toBeUndefined(); // identifiers have a length
    expect(parseServiceUrl('/api/v1/labs')).toBeUndefined();
    expect(rewriteLocation('/login', '/svc/a/b')).toBe('/svc/a/b/login');
    expect(rewriteLocation('https://elsewhere/x', '/svc/a/b')).toBe('https://elsewhere/x');
    expect(rewriteLocation('//evil/x', '/svc/a/b')).toBe('//evil/x');
    expect(withoutLearnerCookie(`a=1; labforge_learner=${LEARNER}; b=2`)).toBe('a=1; b=2');
    expect(withoutLearnerCookie(`labforge_learner=${LEARNER}`)).toBeUndefined();
  });

  it('proxies to the port in the host, strips the prefix and our cookie, keeps redirects under the prefix', async () => {
    const res = await fetch(`${base}${WEB}/hello/world?x=1`, {
      headers: { cookie: `theme=dark; labforge_learner=${LEARNER}`, 'x-labforge-peer': '10.0.0.1' },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${WEB}/login`);
    const body = await res.text();
    expect(body).toContain('GET /hello/world?x=1 HTTP/1.1');
    expect(body).toContain('cookie: theme=dark');
    expect(body).not.toContain('labforge_learner');
    expect(body).not.toContain('x-labforge-peer');
    expect(body).toContain(`x-forwarded-prefix: ${WEB}`);
  });

  it("sandboxes the service's answers and drops its cookies", async () => {
    const res = await fetch(`${base}${WEB}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('set-cookie')).toBeNull();
    // The service's own policy is kept; ours is added (policies add up in the browser).
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain('img-src *');
    expect(csp).toContain("sandbox allow-scripts allow-forms allow-popups; frame-ancestors 'self'");
    expect(csp).not.toContain('allow-same-origin');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // Refusals are sandboxed too.
    const refused = await fetch(`${base}/svc/sess1/web/${'x'.repeat(22)}/`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('answers the sandboxed page (Origin: null) with CORS for its opaque origin, and its preflights', async () => {
    const res = await fetch(`${base}${WEB}/data`, { headers: { origin: 'null' }, redirect: 'manual' });
    expect(res.headers.get('access-control-allow-origin')).toBe('null');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await fetch(`${base}${WEB}/api`, {
      method: 'OPTIONS',
      headers: { origin: 'null', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('null');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');
    const other = await fetch(`${base}${WEB}/data`, { headers: { origin: 'http://evil.example' }, redirect: 'manual' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("refuses a request without the tab's key, with another tab's key, and tabs that are not service tabs", async () => {
    // The owner's cookie alone is not enough any more: the key is the credential.
    expect((await fetch(`${base}/svc/sess1/web/`, { headers: { cookie: `labforge_learner=${LEARNER}` } })).status).toBe(404);
    expect((await fetch(`${base}/svc/sess1/web/${'A'.repeat(22)}/`, { headers: { cookie: `labforge_learner=${LEARNER}` } })).status).toBe(404);
    expect((await fetch(`${base}/svc/sess1/web/${tokens.serviceKey('sess1', 'other')}/`)).status).toBe(404);
    expect((await fetch(`${base}/svc/sess2/web/${KEY}/`)).status).toBe(404);
    expect((await fetch(`${base}/svc/sess1/other/${tokens.serviceKey('sess1', 'other')}/`)).status).toBe(404);
    expect((await fetch(`${base}/api/elsewhere`)).status).toBe(418);
  });

  it('tunnels an Upgrade request with the rewritten path, and refuses a foreign Origin', async () => {
    const raw = (origin: string) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () =>
          s.write(`GET ${WEB}/socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: ${origin}\r\n\r\n`),
        );
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('close', () => resolve(got));
        s.on('error', reject);
        setTimeout(() => s.destroy(), 3000);
      });
    const through = await raw('http://localhost');
    expect(through).toContain('GET /socket HTTP/1.1');
    expect(through).toContain('upgrade: websocket');
    // The service's own page, sandboxed: its origin is opaque.
    expect(await raw('null')).toContain('GET /socket HTTP/1.1');
    expect(await raw('http://evil.example')).toContain('403 Forbidden');
  });
});
