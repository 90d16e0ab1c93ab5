/**
 * Service tabs through the real proxy to a real HTTP server in a container:
 * path rewriting, redirects kept under the tab's prefix, the learner cookie
 * kept from the service, owner-only access, and Upgrade tunnels.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker';
import { dockerHostSchema } from '../../lib/labs/schema';
import type { Environment } from '../../lib/environments/driver';
import { createServiceProxy, parseServiceUrl, rewriteLocation, withoutLearnerCookie } from '../../lib/proxy/service-proxy';
import { log } from '../../lib/log';

const driver = new DockerDriver();
const owner = `test-svc-${process.pid}`;
const LEARNER = 'L'.repeat(32);
// Answers every request with a redirect to /login and, as the body, the request line and headers it got.
const ECHO = `#!/bin/bash
req=""
while IFS= read -r line; do line=\${line%$'\\r'}; [ -z "$line" ] && break; req+="$line"$'\\n'; done
printf 'HTTP/1.0 302 Found\\r\\nLocation: /login\\r\\nContent-Type: text/plain\\r\\n\\r\\n%s' "$req"
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
    resolve: async (sessionId, learner, tab) => {
      if (sessionId !== 'sess1' || learner !== LEARNER) throw Object.assign(new Error('session not found'), { code: 'not_found' });
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
    const ok = await fetch(`${base}/svc/sess1/web/`, { headers: { cookie: `labforge_learner=${LEARNER}` }, redirect: 'manual' }).then((r) => r.status === 302, () => false);
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
    expect(parseServiceUrl('/svc/abc/grafana/d/x?y=1')).toEqual({ sessionId: 'abc', tab: 'grafana', rest: '/d/x?y=1', prefix: '/svc/abc/grafana' });
    expect(parseServiceUrl('/svc/abc/grafana')?.rest).toBe('/');
    expect(parseServiceUrl('/api/v1/labs')).toBeUndefined();
    expect(rewriteLocation('/login', '/svc/a/b')).toBe('/svc/a/b/login');
    expect(rewriteLocation('https://elsewhere/x', '/svc/a/b')).toBe('https://elsewhere/x');
    expect(rewriteLocation('//evil/x', '/svc/a/b')).toBe('//evil/x');
    expect(withoutLearnerCookie(`a=1; labforge_learner=${LEARNER}; b=2`)).toBe('a=1; b=2');
    expect(withoutLearnerCookie(`labforge_learner=${LEARNER}`)).toBeUndefined();
  });

  it('proxies to the port in the host, strips the prefix and our cookie, keeps redirects under the prefix', async () => {
    const res = await fetch(`${base}/svc/sess1/web/hello/world?x=1`, {
      headers: { cookie: `theme=dark; labforge_learner=${LEARNER}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/svc/sess1/web/login');
    const body = await res.text();
    expect(body).toContain('GET /hello/world?x=1 HTTP/1.1');
    expect(body).toContain('cookie: theme=dark');
    expect(body).not.toContain('labforge_learner');
    expect(body).toContain('x-forwarded-prefix: /svc/sess1/web');
  });

  it('refuses callers without the owner cookie, and tabs that are not service tabs', async () => {
    expect((await fetch(`${base}/svc/sess1/web/`)).status).toBe(404);
    expect((await fetch(`${base}/svc/sess1/web/`, { headers: { cookie: `labforge_learner=${'M'.repeat(32)}` } })).status).toBe(404);
    expect((await fetch(`${base}/svc/sess1/other/`, { headers: { cookie: `labforge_learner=${LEARNER}` } })).status).toBe(404);
    expect((await fetch(`${base}/api/elsewhere`)).status).toBe(418);
  });

  it('tunnels an Upgrade request with the rewritten path, and refuses a foreign Origin', async () => {
    const raw = (origin: string) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () =>
          s.write(`GET /svc/sess1/web/socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: ${origin}\r\nCookie: labforge_learner=${LEARNER}\r\n\r\n`),
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
    expect(await raw('http://evil.example')).toContain('403 Forbidden');
  });
});
