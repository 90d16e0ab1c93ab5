/**
 * /healthz, /readyz and /metrics over real HTTP (lib/http/probes.ts): liveness asks nothing,
 * readiness answers 503 naming each failing dependency (details for operators only), and
 * /metrics is served to this machine or with the metrics (or operator) token, never to a
 * request forwarded for someone else, with a secure default when no token is set.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { createProbeEndpoints, type ProbeOptions } from '../../lib/http/probes';
import type { ReadinessReport } from '../../lib/observability/readiness';

const METRICS_TOKEN = 'metrics-token-0123456789';
const OPERATOR_TOKEN = 'operator-token-0123456789';
const REMOTE = { 'x-forwarded-for': '203.0.113.9' }; // a proxy on this machine, for a client elsewhere

const failing: ReadinessReport = {
  ready: false,
  checks: {
    database: { ok: false, reason: 'the database cannot be written', detail: 'read-only: /data/labforge.db', ms: 1 },
    docker: { ok: true, ms: 2 },
    server: { ok: true, ms: 0 },
  },
  failing: [{ dependency: 'database', reason: 'the database cannot be written', detail: 'read-only: /data/labforge.db' }],
};

let server: http.Server | undefined;
let scrapes = 0;
let readinessAsked = 0;

async function serve(opts: Partial<ProbeOptions> = {}, report: ReadinessReport = failing): Promise<string> {
  const probes = createProbeEndpoints({
    readiness: { report: async () => (readinessAsked++, report) },
    metrics: { scrape: async () => (scrapes++, { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'labforge_terminals_open 3\n' }) },
    log,
    ...opts,
  });
  server = http.createServer((req, res) => {
    if (!probes.handleRequest(req, res)) res.writeHead(404).end('next');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise((r) => server?.close(r));
  server = undefined;
  scrapes = 0;
  readinessAsked = 0;
});

describe('liveness and readiness', () => {
  it('answers /healthz without asking any dependency', async () => {
    const url = await serve();
    const res = await fetch(`${url}/healthz`, { headers: REMOTE });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ ok: true });
    expect(readinessAsked).toBe(0);
  });

  it('answers /readyz 503 naming the failing dependency; the detail only to operators', async () => {
    const url = await serve({ operatorToken: OPERATOR_TOKEN });
    const pub = await fetch(`${url}/readyz`, { headers: REMOTE });
    expect(pub.status).toBe(503);
    const body = (await pub.json()) as ReadinessReport;
    expect(body.failing).toEqual([{ dependency: 'database', reason: 'the database cannot be written' }]);
    expect(JSON.stringify(body)).not.toContain('/data/labforge.db');

    const local = (await (await fetch(`${url}/readyz`)).json()) as ReadinessReport;
    expect(local.failing[0].detail).toBe('read-only: /data/labforge.db');
    const withToken = await fetch(`${url}/readyz?verbose=1`, { headers: { ...REMOTE, authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(((await withToken.json()) as ReadinessReport).failing[0].detail).toBe('read-only: /data/labforge.db');
  });

  it('answers /readyz 200 when ready; HEAD has no body; other methods 405; other paths are not its business', async () => {
    const url = await serve({}, { ready: true, checks: { database: { ok: true, ms: 1 } }, failing: [] });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const head = await fetch(`${url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await (await fetch(`${url}/healthz/x`)).text()).toBe('next');
    expect(await (await fetch(`${url}/metricsx`)).text()).toBe('next');
  });
});

describe('/metrics access', () => {
  it('without a token configured: this machine only, and a forwarded request is not this machine', async () => {
    const url = await serve();
    const local = await fetch(`${url}/metrics`);
    expect(local.status).toBe(200);
    expect(local.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await local.text()).toContain('labforge_terminals_open 3');

    const remote = await fetch(`${url}/metrics`, { headers: REMOTE });
    expect(remote.status).toBe(401);
    expect(remote.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await remote.json()) as { error: string }).error).toMatch(/LABFORGE_METRICS_TOKEN/);
    const forwarded = await fetch(`${url}/metrics`, { headers: { forwarded: 'for=203.0.113.9' } });
    expect(forwarded.status).toBe(401);
    // Any bearer is refused while none is configured: an empty token never matches.
    expect((await fetch(`${url}/metrics`, { headers: { ...REMOTE, authorization: 'Bearer ' } })).status).toBe(401);
    expect(scrapes).toBe(1);
  });

  it('with a token: from elsewhere only with it (or the operator token); a wrong one is refused', async () => {
    const url = await serve({ metricsToken: METRICS_TOKEN, operatorToken: OPERATOR_TOKEN });
    const get = (authorization?: string) => fetch(`${url}/metrics`, { headers: { ...REMOTE, ...(authorization ? { authorization } : {}) } });
    expect((await get()).status).toBe(401);
    expect((await get(`Bearer ${METRICS_TOKEN}x`)).status).toBe(401);
    expect((await get(`Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}`)).status).toBe(401);
    const ok = await get(`Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('labforge_terminals_open');
    expect((await get(`bearer ${OPERATOR_TOKEN}`)).status).toBe(200);
    expect(scrapes).toBe(2);
  });
});
