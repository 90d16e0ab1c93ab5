/**
 * The web boundary (docs/reliability.md, "Web and request bounds"): request bodies are capped before
 * they are read, identifiers are checked before use and never echoed at length, every page and API
 * answer carries the security headers (a CSP with a fresh nonce per page), service tabs are
 * sandboxed and cookie-free, and the health check tells the public only that the server is up.
 *
 * Route handlers are called directly (as Next calls them) with a stub runtime that fails the test if
 * a malformed request gets as far as a lookup; the service proxy runs against a local upstream; the
 * rest runs against the real server process (needs a production build, like test/server/restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { setRuntime, type Runtime } from '../../lib/runtime';
import * as sessionsRoute from '../../app/api/v1/sessions/route';
import * as sessionRoute from '../../app/api/v1/sessions/[id]/route';
import * as checkRoute from '../../app/api/v1/sessions/[id]/check/route';
import * as nextRoute from '../../app/api/v1/sessions/[id]/next/route';
import * as extendRoute from '../../app/api/v1/sessions/[id]/extend/route';
import * as filesRoute from '../../app/api/v1/sessions/[id]/files/[tab]/route';
import * as tokenRoute from '../../app/api/v1/sessions/[id]/terminals/[tab]/token/route';
import * as trafficRoute from '../../app/api/v1/sessions/[id]/traffic/route';
import * as challengeRoute from '../../app/api/v1/sessions/[id]/challenges/[index]/route';
import * as healthRoute from '../../app/api/v1/health/route';

const root = path.resolve(__dirname, '../..');
const LEARNER = 'w'.repeat(32);
const MB50 = 50 * 1000 * 1000;
const OPERATOR_TOKEN = 'op-'.padEnd(40, 'x');

/** What the stub runtime was asked: a malformed identifier must never get this far. */
let lookups: string[] = [];

function stubRuntime() {
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      lookups.push(`${name}(${args.map((a) => String(a).slice(0, 20)).join(', ')})`);
      throw Object.assign(new Error('session not found'), { name: 'SessionError', code: 'not_found' });
    };
  const sessions = new Proxy({}, { get: (_t, name) => record(String(name)) });
  const prerequisites = async () => [{ what: 'fs.inotify.max_user_watches is 8192, below 524288', fix: 'sysctl -w fs.inotify.max_user_watches=524288' }];
  setRuntime({
    config: { allowedOrigins: ['http://localhost:3000'], operatorToken: OPERATOR_TOKEN },
    sessions,
    catalog: { list: () => [{}, {}], get: () => undefined },
    drivers: { docker: { prerequisites } },
    tokens: { issue: () => 'token', serviceKey: () => 'k'.repeat(22) },
    log,
  } as unknown as Runtime);
}

type Handler<P> = (req: Request, ctx: { params: Promise<P> }) => Promise<Response>;
function call<P>(handler: Handler<P>, url: string, params: P, init: RequestInit & { duplex?: 'half' } = {}) {
  const req = new Request(`http://localhost${url}`, {
    ...init,
    headers: { cookie: `labforge_learner=${LEARNER}`, ...(init.headers as Record<string, string>) },
  });
  return handler(req, { params: Promise.resolve(params) });
}

/**
 * A body of `total` bytes that is made as it is pulled (`{"lab":"aaaa…`), counting what the reader
 * took. highWaterMark 0: nothing is pulled until someone reads.
 */
function countingBody(total: number, chunk = 64 * 1024) {
  const counter = { pulled: 0 };
  const head = new TextEncoder().encode('{"lab":"');
  const filler = new Uint8Array(chunk).fill(0x61);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (counter.pulled >= total) return c.close();
        const piece = counter.pulled === 0 ? head : filler.subarray(0, Math.min(chunk, total - counter.pulled));
        counter.pulled += piece.byteLength;
        c.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, counter };
}

describe('request bodies are capped before they are read', () => {
  beforeAll(stubRuntime);
  afterAll(() => setRuntime(undefined));

  it('stops pulling a 50 MB streamed body just past 64 KiB and answers 413', async () => {
    const { stream, counter } = countingBody(MB50);
    const started = Date.now();
    const res = await call(
      sessionsRoute.POST as Handler<object>,
      '/api/v1/sessions',
      {},
      { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/json' } },
    );
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(((await res.json()) as { error: string }).error).toBe('the request body is larger than 64 KiB');
    expect(counter.pulled).toBeLessThanOrEqual(64 * 1024 + 64 * 1024);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a declared Content-Length over the limit without reading a byte', async () => {
    const { stream, counter } = countingBody(MB50);
    const res = await call(
      sessionsRoute.POST as Handler<object>,
      '/api/v1/sessions',
      {},
      {
        method: 'POST',
        body: stream,
        duplex: 'half',
        headers: { 'content-type': 'application/json', 'content-length': String(MB50) },
      },
    );
    expect(res.status).toBe(413);
    expect(counter.pulled).toBe(0);
  });

  it('lets an editor save carry a 1 MiB file, and no more than its own limit', async () => {
    const file = 'x\n'.repeat(512 * 1024); // 1 MiB of text, 1.5 MiB as JSON
    const ok = await call(
      filesRoute.PUT,
      '/api/v1/sessions/abc/files/notes',
      { id: 'abc', tab: 'notes' },
      {
        method: 'PUT',
        body: JSON.stringify({ content: file, version: 'missing' }),
      },
    );
    expect(ok.status).toBe(404); // past the body: the (stub) session does not exist
    expect(lookups.some((l) => l.startsWith('editorTarget(abc'))).toBe(true);
    const { stream, counter } = countingBody(MB50);
    const big = await call(filesRoute.PUT, '/api/v1/sessions/abc/files/notes', { id: 'abc', tab: 'notes' }, { method: 'PUT', body: stream, duplex: 'half' });
    expect(big.status).toBe(413);
    expect(counter.pulled).toBeLessThan(3 * 1024 * 1024);
  });
});

describe('identifiers are checked before use and never echoed at length', () => {
  beforeAll(stubRuntime);
  beforeEach(() => (lookups = []));
  afterAll(() => setRuntime(undefined));

  const long = 'a'.repeat(50_000);
  const expectQuiet = async (res: Response, status: number) => {
    const text = await res.text();
    expect(res.status, text.slice(0, 200)).toBe(status);
    expect(text.length).toBeLessThan(1024);
    expect(text).not.toMatch(/a{65}/);
    return text;
  };

  it('a long lab or challenge slug, or a long unknown field, is a short 400', async () => {
    const post = (b: unknown) => call(sessionsRoute.POST as Handler<object>, '/api/v1/sessions', {}, { method: 'POST', body: JSON.stringify(b) });
    expect(await expectQuiet(await post({ lab: long }), 400)).toContain('lab: must be a slug');
    expect(await expectQuiet(await post({ lab: 'x', challenge: long }), 400)).toContain('challenge: must be a slug');
    expect(await expectQuiet(await post({ lab: 'x', [long]: 1 }), 400)).toContain('(50000 characters)');
    expect(lookups).toEqual([]);
  });

  it('a long or malformed session id or tab is a short 404 that reaches no lookup', async () => {
    const bad = [long, 'ABC', '../x', 'a b', ''];
    for (const id of bad) {
      await expectQuiet(await call(sessionRoute.GET, `/api/v1/sessions/x`, { id }), 404);
      await expectQuiet(await call(sessionRoute.DELETE, `/api/v1/sessions/x`, { id }, { method: 'DELETE' }), 404);
      await expectQuiet(await call(checkRoute.POST, `/api/v1/sessions/x/check`, { id }, { method: 'POST' }), 404);
      await expectQuiet(await call(nextRoute.POST, `/api/v1/sessions/x/next`, { id }, { method: 'POST' }), 404);
      await expectQuiet(await call(extendRoute.POST, `/api/v1/sessions/x/extend`, { id }, { method: 'POST' }), 404);
      await expectQuiet(await call(trafficRoute.GET, `/api/v1/sessions/x/traffic`, { id }), 404);
      await expectQuiet(await call(challengeRoute.GET, `/api/v1/sessions/x/challenges/0`, { id, index: '0' }), 404);
      await expectQuiet(await call(filesRoute.GET, `/api/v1/sessions/x/files/t`, { id, tab: 'notes' }), 404);
    }
    for (const tab of [long, 'Shell', '../../etc']) {
      await expectQuiet(await call(filesRoute.GET, `/api/v1/sessions/abc/files/x`, { id: 'abc', tab }), 404);
      await expectQuiet(await call(tokenRoute.POST, `/api/v1/sessions/abc/terminals/x/token`, { id: 'abc', tab }, { method: 'POST' }), 404);
    }
    await expectQuiet(await call(challengeRoute.GET, `/api/v1/sessions/abc/challenges/x`, { id: 'abc', index: '9'.repeat(5000) }), 400);
    expect(lookups).toEqual([]);
  });

  it('a long Origin is refused without being echoed', async () => {
    const text = await expectQuiet(
      await call(nextRoute.POST, '/api/v1/sessions/abc/next', { id: 'abc' }, { method: 'POST', headers: { origin: `http://${long}` } }),
      403,
    );
    expect(text).toContain('(50007 characters)');
  });
});

describe('health', () => {
  beforeAll(stubRuntime);
  afterAll(() => setRuntime(undefined));

  const health = async (headers: Record<string, string>) => {
    const res = await healthRoute.GET(new Request('http://localhost/api/v1/health', { headers }));
    expect(res.status).toBe(200);
    return (await res.json()) as { ok: boolean; labs: number; drivers?: unknown };
  };

  it('tells the public only that the server is up', async () => {
    expect(await health({})).toEqual({ ok: true, labs: 2 });
    expect(await health({ 'x-labforge-peer': '203.0.113.7' })).toEqual({ ok: true, labs: 2 });
    // A client cannot claim to be local: server.ts sets the peer, and a proxy in front says whom for.
    expect(await health({ 'x-labforge-peer': '203.0.113.7', 'x-forwarded-for': '127.0.0.1' })).toEqual({ ok: true, labs: 2 });
    expect(await health({ 'x-labforge-peer': '127.0.0.1', 'x-forwarded-for': '203.0.113.7' })).toEqual({ ok: true, labs: 2 });
    expect(await health({ 'x-labforge-peer': '127.0.0.1', forwarded: 'for=203.0.113.7' })).toEqual({ ok: true, labs: 2 });
    expect(await health({ authorization: 'Bearer wrong-token-of-some-length' })).toEqual({ ok: true, labs: 2 });
  });

  it('shows the drivers to operators: from loopback, or with the operator token', async () => {
    for (const peer of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect((await health({ 'x-labforge-peer': peer })).drivers).toBeDefined();
    expect((await health({ 'x-labforge-peer': '127.0.0.1', 'x-forwarded-for': '127.0.0.1' })).drivers).toBeDefined();
    const detail = await health({ 'x-labforge-peer': '203.0.113.7', authorization: `Bearer ${OPERATOR_TOKEN}` });
    expect(JSON.stringify(detail.drivers)).toContain('max_user_watches');
  });
});

describe('service tabs', () => {
  let upstream: http.Server;
  let proxyServer: http.Server;
  let base: string;
  let seen: http.IncomingHttpHeaders | undefined;
  let key: string;

  beforeAll(async () => {
    // Loaded here, so the rest of this file runs against older code too.
    const { createServiceProxy, serviceUrl } = await import('../../lib/http/service-proxy');
    const { TokenStore } = await import('../../lib/auth/tokens');
    upstream = http.createServer((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': ['labforge_learner=evil; Path=/', 'grafana=1; Path=/'] });
      res.end('<script>parent.document.cookie</script>');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const tokens = new TokenStore();
    const proxy = createServiceProxy({
      allowedOrigins: ['http://localhost'],
      log,
      isKey: (s: string, t: string, k: string) => tokens.isServiceKey(s, t, k),
      resolve: async () => ({ address: '127.0.0.1', port: (upstream.address() as AddressInfo).port }),
    });
    proxyServer = http.createServer((req, res) => void (proxy.handleRequest(req, res) || res.writeHead(418).end()));
    await new Promise<void>((r) => proxyServer.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}`;
    key = serviceUrl('abc', 'web', tokens.serviceKey('abc', 'web'));
  });
  afterAll(() => {
    upstream?.close();
    proxyServer?.close();
  });

  it('answers sandboxed, without the service cookies, and keeps the learner cookie from the service', async () => {
    const res = await fetch(`${base}${key}`, { headers: { cookie: `labforge_learner=${LEARNER}; theme=dark` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe("sandbox allow-scripts allow-forms allow-popups; frame-ancestors 'self'");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(seen?.cookie).toBe('theme=dark');
  });

  it('needs the key of that session and tab', async () => {
    expect((await fetch(`${base}/svc/abc/web/`, { headers: { cookie: `labforge_learner=${LEARNER}` } })).status).toBe(404);
    expect((await fetch(`${base}${key.replace('/abc/', '/abd/')}`)).status).toBe(404);
  });
});

describe('the real server', () => {
  const port = 3700 + (process.pid % 200);
  const url = `http://127.0.0.1:${port}`;
  let dataDir: string;
  let server: ChildProcess;

  const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]);

  /** Sends `bytes` of a JSON body (declared or chunked) and stops writing once the answer is in. */
  function postBig(pathname: string, bytes: number, { chunked = false } = {}) {
    return new Promise<{ status: number; body: string; sent: number; ms: number; error?: string }>((resolve, reject) => {
      const started = Date.now();
      const req = http.request(`${url}${pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(bytes) }) },
      });
      let sent = 0;
      let answered = false;
      const filler = Buffer.alloc(256 * 1024, 'a');
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, sent, ms: Date.now() - started }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        // The server answers 413 and closes without reading the rest: a client still writing may
        // see the close (EPIPE, ECONNRESET) before it gets to read the answer. That is a refusal too.
        if (answered) return;
        setTimeout(() => {
          if (answered) return;
          if (e.code === 'EPIPE' || e.code === 'ECONNRESET') resolve({ status: 0, body: '', sent, ms: Date.now() - started, error: e.code });
          else reject(e);
        }, 2000);
      });
      const pump = () => {
        while (!answered && sent < bytes) {
          const piece = sent === 0 ? Buffer.from('{"lab":"') : filler.subarray(0, Math.min(filler.length, bytes - sent));
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
  }

  beforeAll(async () => {
    if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) throw new Error('no production build: run `npx next build` first');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-web-'));
    server = spawn(process.execPath, ['bin/labforge.mjs', 'serve'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), LABFORGE_DATA_DIR: dataDir, LABFORGE_LOG_LEVEL: 'warn', NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    for (const deadline = Date.now() + 90_000; ; await new Promise((r) => setTimeout(r, 300))) {
      if (server.exitCode !== null) throw new Error(`server exited ${server.exitCode}: ${stderr}`);
      if (
        await fetch(`${url}/api/v1/labs`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) throw new Error(`server not ready after 90 s: ${stderr}`);
    }
  }, 120_000);

  afterAll(() => {
    server?.kill('SIGKILL');
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a 50 MB body with 413 at once, in bounded memory', async () => {
    // Warm up the route (its module is loaded on first use), then measure.
    for (let i = 0; i < 3; i++) await postBig('/api/v1/sessions', 100);
    const before = rssKb();
    const results = [];
    for (const chunked of [false, true, false, true]) results.push(await postBig('/api/v1/sessions', MB50, { chunked }));
    const after = rssKb();
    for (const r of results) {
      // A 413, or the connection closed on a client still writing, long before the 50 MB were sent.
      if (r.error) expect(r.sent).toBeLessThan(MB50 / 2);
      else expect(r.status).toBe(413);
      expect(r.body.length).toBeLessThan(1024);
      expect(r.ms).toBeLessThan(5000);
    }
    expect(
      results.some((r) => r.status === 413),
      'at least one client read the 413',
    ).toBe(true);
    console.log(
      `50 MB bodies: RSS ${Math.round(before / 1024)} MB → ${Math.round(after / 1024)} MB; sent before the 413: ${results.map((r) => `${(r.sent / 1e6).toFixed(1)} MB`).join(', ')}; ${results.map((r) => `${r.ms} ms`).join(', ')}`,
    );
    expect(after - before).toBeLessThan(20 * 1024);
  }, 60_000);

  it('does not echo a long lab back, and refuses overlong URLs before Next renders them', async () => {
    const res = await fetch(`${url}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lab: 'a'.repeat(60_000) }),
    });
    expect(res.status).toBe(400);
    expect((await res.text()).length).toBeLessThan(1024);
    const page = await fetch(`${url}/labs/${'a'.repeat(8000)}`);
    expect(page.status).toBe(414);
    expect((await page.text()).length).toBeLessThan(1024);
  });

  it('puts the security headers on pages and API answers, with a fresh nonce per page', async () => {
    const nonces: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce, csp).toBeTruthy();
      expect(csp).toContain("'strict-dynamic'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).toContain("object-src 'none'");
      // Every script in the page carries this request's nonce.
      const html = await res.text();
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
      nonces.push(nonce!);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
    }
    expect(nonces[0]).not.toBe(nonces[1]);

    for (const api of ['/api/v1/labs', '/api/v1/sessions/nope']) {
      const res = await fetch(`${url}${api}`);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
    }
  });

  it('LTI pages keep their own policy: an LMS may frame them and their forms post back to it', async () => {
    const res = await fetch(`${url}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'state=x' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    // The page's own policy (lib/lti/html.ts: nothing but its nonce'd style), not the app's.
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'nonce-/);
    expect(csp).not.toContain('strict-dynamic');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a client cannot pick the nonce', async () => {
    const res = await fetch(`${url}/`, { headers: { 'content-security-policy': "script-src 'nonce-chosen'", 'x-nonce': 'chosen' } });
    expect(await res.text()).not.toContain('nonce="chosen"');
  });

  it('health: the detail for loopback, only {ok, labs} for a client a proxy forwards', async () => {
    const local = (await (await fetch(`${url}/api/v1/health`)).json()) as Record<string, unknown>;
    expect(local.drivers).toBeDefined();
    const forwarded = (await (await fetch(`${url}/api/v1/health`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).json()) as Record<string, unknown>;
    expect(Object.keys(forwarded).sort()).toEqual(['labs', 'ok']);
  });
});
