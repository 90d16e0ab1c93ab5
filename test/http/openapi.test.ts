/**
 * The OpenAPI document against the API it describes (issue #12 item 5). The document must be valid
 * OpenAPI 3.1 with schemas that compile; every route file under app/api/v1 (found on disk) must be
 * in it, method by method, and nothing else; and real answers of every route and method — successes
 * and the errors each really gives, from a learner's cookie or a grader's token — must have a status,
 * content type, headers and body the document lists. Real sessions on the in-memory driver and a
 * real SQLite database; the route handlers are called as Next calls them.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/http/openapi';
import { resetRateLimits } from '../../lib/http/limits';
import { trafficCaptures } from '../../lib/traffic/capture';
import { call, graderHarness, graderTokens, whenActive, type GraderHarness } from '../support/graders';
import { Contract, discoverRoutes, type Doc, type RouteFile } from '../support/openapi-contract';
import pkg from '../../package.json';

let h: GraderHarness;
let tokens: Awaited<ReturnType<typeof graderTokens>>;
let routes: RouteFile[];
const doc = openApiDocument() as unknown as Doc;
const contract = new Contract(doc);
/** `METHOD /path` of every route and method the walk called. */
const walked = new Set<string>();

interface Step {
  status: number;
  params?: Record<string, string>;
  query?: string;
  token?: string;
  cookie?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

/** Calls `method route` as described, expects `status`, and checks the answer against the document. */
async function walk(method: string, route: string, step: Step): Promise<{ res: Response; body: Record<string, unknown> }> {
  const file = routes.find((r) => r.path === route);
  expect(file, `no route file answers ${route}`).toBeDefined();
  const handler = file!.handlers[method];
  expect(handler, `${file!.file} exports no ${method}`).toBeDefined();
  const params = step.params ?? {};
  const url = route.replace(/\{(\w+)\}/g, (_, k: string) => params[k]) + (step.query ?? '');
  const { token, cookie, json, body, headers } = step;
  const res = await call(handler, url, params, { method, token, cookie, json, body, headers });
  expect(res.status, `${method} ${url}: ${await res.clone().text()}`).toBe(step.status);
  if (json !== undefined && res.status < 300) contract.expectRequest(method, route, json);
  walked.add(`${method} ${route}`);
  return { res, body: (await contract.expectResponse(method, route, res)) as Record<string, unknown> };
}

const evil = { origin: 'https://elsewhere.example' };
/** Session ids and the learner cookie: `mine` a learner started in a browser (lab beta), `graded` a token started (lab alpha). */
let mine: string;
let cookie: string;
let graded: string;

beforeAll(async () => {
  h = await graderHarness('openapi');
  tokens = await graderTokens(h);
  routes = await discoverRoutes();
});

afterAll(async () => {
  trafficCaptures().close();
  await h?.close();
});

describe('the document', () => {
  it('is valid OpenAPI 3.1, versioned like the package, with two security schemes', async () => {
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? [], 'OpenAPI schema validation').toEqual([]);
    expect(result.valid).toBe(true);
    expect(openApiDocument()).toMatchObject({ openapi: '3.1.0', info: { version: pkg.version } });
    expect(openApiDocument().components?.securitySchemes).toMatchObject({
      learnerCookie: { type: 'apiKey', in: 'cookie', name: 'labforge_learner' },
      bearerAuth: { type: 'http', scheme: 'bearer' },
    });
  });

  it('has schemas that all compile as JSON Schema 2020-12', () => {
    const places = [...contract.schemaPlaces()];
    expect(places.length).toBeGreaterThan(50);
    for (const place of places) expect(() => contract.schemaAt(...place), place.join(' ')).not.toThrow();
  });

  it('describes every route file under app/api/v1, method by method, and nothing else', () => {
    const inFiles = routes.flatMap((r) => Object.keys(r.handlers).map((m) => `${m} ${r.path}`)).sort();
    const inDoc = Object.entries(doc.paths)
      .flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(
      inFiles.filter((x) => !inDoc.includes(x)),
      'routes the OpenAPI document lacks',
    ).toEqual([]);
    expect(
      inDoc.filter((x) => !inFiles.includes(x)),
      'documented routes with no route file',
    ).toEqual([]);
  });
});

describe('real answers match the document', () => {
  it('the public routes', async () => {
    expect((await walk('GET', '/api/v1/labs', { status: 200 })).body).toHaveLength(2);
    await walk('GET', '/api/v1/health', { status: 200 });
    const operator = await walk('GET', '/api/v1/health', { status: 200, headers: { 'x-labforge-peer': '127.0.0.1' } });
    expect(operator.body).toHaveProperty('drivers');
    const self = await walk('GET', '/api/v1/openapi.json', { status: 200 });
    expect(self.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('starting and listing sessions, with a cookie and with a token', async () => {
    const S = '/api/v1/sessions';
    const started = await walk('POST', S, { status: 201, json: { lab: 'beta' } });
    cookie = /labforge_learner=([^;]+)/.exec(started.res.headers.get('set-cookie') ?? '')![1];
    mine = started.body.id as string;
    const conflict = await walk('POST', S, { status: 409, cookie, json: { lab: 'beta' } });
    expect(conflict.body).toMatchObject({ code: 'conflict', session: { id: mine } });
    await walk('POST', S, { status: 404, cookie, json: { lab: 'nope' } });
    await walk('POST', S, { status: 400, cookie, json: { lab: 'beta', extra: 1 } });
    await walk('POST', S, { status: 403, cookie, json: { lab: 'beta' }, headers: evil });
    await walk('POST', S, { status: 413, cookie, body: JSON.stringify({ lab: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } });
    graded = (await walk('POST', S, { status: 201, token: tokens.terminals, json: { lab: 'alpha', learner: 'ann' } })).body.id as string;
    await walk('POST', S, { status: 403, token: tokens.valid, json: { lab: 'beta', learner: 'bo' } });
    await walk('POST', S, { status: 401, token: tokens.unknown, json: { lab: 'alpha', learner: 'bo' } });

    expect((await walk('GET', S, { status: 200, cookie })).body).toHaveLength(1);
    expect((await walk('GET', S, { status: 200, token: tokens.terminals, query: '?learner=ann' })).body).toMatchObject([{ learner: 'ann' }]);
    expect((await walk('GET', S, { status: 200 })).body).toEqual([]);
    await walk('GET', S, { status: 400, token: tokens.terminals, query: '?limit=0' });
    await walk('GET', S, { status: 401, token: tokens.revoked });
    await walk('GET', S, { status: 404, headers: { cookie: 'other=1' } });

    await whenActive(h, mine, cookie);
    await whenActive(h, graded, (await h.db.session.findUniqueOrThrow({ where: { id: graded } })).learnerId);
  });

  it('a session, its challenges and its tabs', async () => {
    const id = { id: mine };
    await walk('GET', '/api/v1/sessions/{id}', { status: 200, params: id, cookie });
    await walk('GET', '/api/v1/sessions/{id}', { status: 200, params: { id: graded }, token: tokens.valid });
    await walk('GET', '/api/v1/sessions/{id}', { status: 404, params: { id: 'nosuchsession' }, cookie });
    await walk('GET', '/api/v1/sessions/{id}', { status: 401, params: id, token: tokens.expired });

    const C = '/api/v1/sessions/{id}/challenges/{index}';
    await walk('GET', C, { status: 200, params: { id: mine, index: '0' }, cookie });
    await walk('GET', C, { status: 400, params: { id: mine, index: 'first' }, cookie });
    await walk('GET', C, { status: 404, params: { id: mine, index: '1' }, cookie });

    const F = '/api/v1/sessions/{id}/files/{tab}';
    const notes = { id: mine, tab: 'notes' };
    expect((await walk('GET', F, { status: 200, params: notes, cookie })).body).toMatchObject({ version: 'missing' });
    await walk('PUT', F, { status: 200, params: notes, cookie, json: { content: 'hello', version: 'missing' } });
    await walk('PUT', F, { status: 409, params: notes, cookie, json: { content: 'again', version: 'missing' } });
    await walk('PUT', F, { status: 400, params: notes, cookie, json: { content: 1 } });
    await walk('PUT', F, { status: 403, params: notes, cookie, json: { content: 'x', version: 'missing' }, headers: evil });
    const huge = JSON.stringify({ content: 'x'.repeat(2_200_000), version: 'missing' });
    await walk('PUT', F, { status: 413, params: notes, cookie, body: huge, headers: { 'content-type': 'application/json' } });
    await walk('GET', F, { status: 404, params: { id: mine, tab: 'nope' }, cookie });

    await walk('GET', '/api/v1/sessions/{id}/services/{tab}', { status: 200, params: { id: mine, tab: 'web' }, cookie });
    await walk('GET', '/api/v1/sessions/{id}/services/{tab}', { status: 404, params: { id: mine, tab: 'notes' }, cookie });
    await walk('GET', '/api/v1/sessions/{id}/traffic', { status: 200, params: id, cookie });
    await walk('POST', '/api/v1/sessions/{id}/traffic', { status: 200, params: id, cookie });
    await walk('GET', '/api/v1/sessions/{id}/traffic', { status: 404, params: { id: graded }, token: tokens.other });

    const T = '/api/v1/sessions/{id}/terminals/{tab}/token';
    await walk('POST', T, { status: 200, params: { id: mine, tab: 'shell' }, cookie });
    await walk('POST', T, { status: 403, params: { id: graded, tab: 'shell' }, token: tokens.valid });
    await walk('POST', T, { status: 404, params: { id: mine, tab: 'web' }, cookie });
  });

  it('acting on a session: restart, extend, join, check, next, stop', async () => {
    const id = { id: mine };
    const R = '/api/v1/sessions/{id}/hosts/{host}/restart';
    const host = { id: mine, host: 'workstation' };
    await walk('POST', R, { status: 404, params: { id: mine, host: 'No-Such' }, cookie });
    h.config.rateLimits['restart.learner'] = 2;
    resetRateLimits();
    await walk('POST', R, { status: 200, params: host, cookie });
    // A driver that cannot restart hosts: the session layer says so (503), nothing is left half done.
    Object.assign(h.driver, { restartHost: undefined });
    await walk('POST', R, { status: 503, params: host, cookie });
    delete (h.driver as { restartHost?: unknown }).restartHost;
    expect((await walk('POST', R, { status: 429, params: host, cookie })).res.headers.get('retry-after')).toMatch(/^\d+$/);

    await walk('POST', '/api/v1/sessions/{id}/extend', { status: 200, params: id, cookie });
    await walk('POST', '/api/v1/sessions/{id}/extend', { status: 409, params: id, cookie });

    const J = '/api/v1/sessions/{id}/join';
    await walk('POST', J, { status: 201, params: { id: graded }, token: tokens.terminals });
    await walk('POST', J, { status: 401, params: { id: graded }, cookie });
    await walk('POST', J, { status: 403, params: id, token: tokens.other });

    const K = '/api/v1/sessions/{id}/check';
    await walk('POST', K, { status: 400, params: id, cookie, json: { answers: 'all' } });
    await walk('POST', K, { status: 413, params: id, cookie, body: JSON.stringify({ answers: [], pad: 'x'.repeat(70_000) }) });
    await walk('POST', K, { status: 200, params: id, cookie, json: {} });
    const N = '/api/v1/sessions/{id}/next';
    expect((await walk('POST', N, { status: 200, params: id, cookie })).body).toMatchObject({ challenge: 'last' });
    await walk('POST', N, { status: 409, params: id, cookie });
    await walk('POST', K, { status: 200, params: id, cookie });
    expect((await walk('POST', N, { status: 200, params: id, cookie })).body).toMatchObject({ status: 'completed' });
    await walk('GET', '/api/v1/sessions/{id}/traffic', { status: 409, params: id, cookie });

    const D = '/api/v1/sessions/{id}';
    await walk('DELETE', D, { status: 403, params: { id: graded }, cookie, headers: evil });
    await walk('DELETE', D, { status: 200, params: { id: graded }, token: tokens.terminals });
    await walk('DELETE', D, { status: 404, params: { id: graded }, cookie });
    await walk('POST', J, { status: 409, params: { id: graded }, token: tokens.terminals });
    await walk('DELETE', D, { status: 200, params: id, cookie });
  });

  it('results, as JSON and as CSV', async () => {
    const results = await walk('GET', '/api/v1/results', { status: 200, token: tokens.terminals });
    expect(results.body).toMatchObject({ results: [{ session: graded, learner: 'ann' }], truncated: false });
    expect((await walk('GET', '/api/v1/results', { status: 200, token: tokens.other, query: '?format=csv' })).body).toContain(mine);
    await walk('GET', '/api/v1/results', { status: 400, token: tokens.terminals, query: '?bogus=1' });
    await walk('GET', '/api/v1/results', { status: 403, token: tokens.terminals, query: '?lab=beta' });
    await walk('GET', '/api/v1/results', { status: 401 });
  });

  it('walked every route and method, and every error status the API uses', () => {
    const all = routes.flatMap((r) => Object.keys(r.handlers).map((m) => `${m} ${r.path}`));
    expect(
      all.filter((x) => !walked.has(x)),
      'routes the walk did not call: add them to this test',
    ).toEqual([]);
    const statuses = new Set([...contract.checked].map((c) => Number(c.split(' ').at(-1))));
    expect([...statuses].sort()).toEqual([200, 201, 400, 401, 403, 404, 409, 413, 429, 503]);
  });
});
