/**
 * Every /api/v1 session route with a grader's Bearer token, against a real database and real
 * sessions (on the in-memory driver): each credential that must be refused is refused with the
 * status designed for it, never a 500 and never with a side effect; a valid token gets the
 * answer the session's own learner would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sessionsRoute from '../../app/api/v1/sessions/route';
import * as sessionRoute from '../../app/api/v1/sessions/[id]/route';
import * as checkRoute from '../../app/api/v1/sessions/[id]/check/route';
import * as nextRoute from '../../app/api/v1/sessions/[id]/next/route';
import * as extendRoute from '../../app/api/v1/sessions/[id]/extend/route';
import * as challengeRoute from '../../app/api/v1/sessions/[id]/challenges/[index]/route';
import * as filesRoute from '../../app/api/v1/sessions/[id]/files/[tab]/route';
import * as restartRoute from '../../app/api/v1/sessions/[id]/hosts/[host]/restart/route';
import * as trafficRoute from '../../app/api/v1/sessions/[id]/traffic/route';
import * as servicesRoute from '../../app/api/v1/sessions/[id]/services/[tab]/route';
import * as terminalRoute from '../../app/api/v1/sessions/[id]/terminals/[tab]/token/route';
import * as joinRoute from '../../app/api/v1/sessions/[id]/join/route';
import { trafficCaptures } from '../../lib/traffic/capture';
import { call, graderHarness, graderTokens, whenActive, type GraderHarness, type Handler } from '../support/graders';

let h: GraderHarness;
let tokens: Awaited<ReturnType<typeof graderTokens>>;
let id: string;
let learnerId: string;

interface Route {
  name: string;
  fn: Handler<Record<string, string>>;
  method: string;
  params: Record<string, string>;
  json?: unknown;
  /** Status and a check of the body for a valid token, in the order the routes are called. */
  ok: [number, (body: Record<string, unknown>) => void];
}

const R = (name: string, fn: unknown, method: string, params: Record<string, string>, ok: Route['ok'], json?: unknown): Route => ({
  name,
  fn: fn as Route['fn'],
  method,
  params,
  ok,
  json,
});

/** Every session route, in an order a valid token can walk them all (DELETE last). */
const routes = (): Route[] => [
  R('GET session', sessionRoute.GET, 'GET', { id }, [200, (b) => expect(b).toMatchObject({ id, lab: 'alpha', status: 'active', challenge: 'first' })]),
  R('GET challenges/0', challengeRoute.GET, 'GET', { id, index: '0' }, [200, (b) => expect(b).toMatchObject({ slug: 'first' })]),
  R('PUT files/notes', filesRoute.PUT, 'PUT', { id, tab: 'notes' }, [200, (b) => expect(b).toMatchObject({ content: 'graded' })], {
    content: 'graded',
    version: 'missing',
  }),
  R('GET files/notes', filesRoute.GET, 'GET', { id, tab: 'notes' }, [200, (b) => expect(b).toMatchObject({ path: '/root/notes.txt', content: 'graded' })]),
  R('GET services/web', servicesRoute.GET, 'GET', { id, tab: 'web' }, [200, (b) => expect(b.url).toMatch(new RegExp(`^/svc/${id}/web/`))]),
  R('GET traffic', trafficRoute.GET, 'GET', { id }, [200, (b) => expect(b).toMatchObject({ capturing: false })]),
  R('POST traffic', trafficRoute.POST, 'POST', { id }, [200, (b) => expect(b).toHaveProperty('groups')]),
  R('POST terminals/shell/token', terminalRoute.POST, 'POST', { id, tab: 'shell' }, [200, (b) => expect(b).toMatchObject({ path: '/ws/terminal' })]),
  R('POST hosts/workstation/restart', restartRoute.POST, 'POST', { id, host: 'workstation' }, [200, (b) => expect(b).toMatchObject({ id, status: 'active' })]),
  R('POST extend', extendRoute.POST, 'POST', { id }, [200, (b) => expect(b).toMatchObject({ id, canExtend: false })]),
  R('POST join', joinRoute.POST, 'POST', { id }, [201, (b) => expect(b.joinUrl).toMatch(/^https:\/\/labs\.example\.org\/join\//)]),
  R('POST check', checkRoute.POST, 'POST', { id }, [200, (b) => expect(b).toMatchObject({ passed: true })], {}),
  R('POST next', nextRoute.POST, 'POST', { id }, [200, (b) => expect(b).toMatchObject({ challenge: 'last' })]),
  R('DELETE session', sessionRoute.DELETE, 'DELETE', { id }, [200, (b) => expect(b).toEqual({ id, status: 'stopped' })]),
];

const send = (r: Route, init: { token?: string; cookie?: string; headers?: Record<string, string> }) =>
  call(r.fn, `/api/v1/sessions/${id}/x`, r.params, { method: r.method, json: r.json, ...init });

beforeAll(async () => {
  h = await graderHarness('grader-routes');
  tokens = await graderTokens(h);
  // The session under test is started by the grader for a learner, as graders do.
  const res = await call(
    sessionsRoute.POST as Handler<object>,
    '/api/v1/sessions',
    {},
    { method: 'POST', token: tokens.terminals, json: { lab: 'alpha', learner: 'ann' } },
  );
  expect(res.status).toBe(201);
  id = ((await res.json()) as { id: string }).id;
  learnerId = (await h.db.session.findUniqueOrThrow({ where: { id } })).learnerId;
  await whenActive(h, id, learnerId);
});

afterAll(async () => {
  trafficCaptures().close();
  await h?.close();
});

describe('refused credentials, on every session route', () => {
  const cases: Array<[string, () => { token?: string }, number, RegExp]> = [
    ['no token (and no cookie)', () => ({}), 404, /^session not found$/],
    ['a malformed Bearer header', () => ({ token: 'two words' }), 401, /should be "Bearer <token>"/],
    ['an unknown token', () => ({ token: tokens.unknown }), 401, /^this token is not known here/],
    ['a revoked token', () => ({ token: tokens.revoked }), 401, /^this token \("revoked"\) was revoked on/],
    ['an expired token', () => ({ token: tokens.expired }), 401, /^this token \("expired"\) expired on/],
    ['a token for another lab', () => ({ token: tokens.other }), 404, /^session not found$/],
  ];

  for (const [what, credential, status, message] of cases)
    it(`${what}: ${status}`, async () => {
      for (const r of routes()) {
        const res = await send(r, credential());
        const body = (await res.json()) as { error: string };
        // The join link is for graders only: without a token it asks for one.
        const want = r.name === 'POST join' && !credential().token ? 401 : status;
        expect(res.status, `${r.name}: ${body.error}`).toBe(want);
        if (want === status) expect(body.error, r.name).toMatch(message);
        expect(res.headers.get('set-cookie'), r.name).toBeNull();
        if (want === 401) expect(res.headers.get('www-authenticate'), r.name).toMatch(/^Bearer realm="labforge"/);
        if (want === 401 && credential().token?.startsWith('lf_')) expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      }
      // Nothing any of them asked for happened.
      const row = await h.db.session.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({ status: 'active', currentIndex: 0, extensions: 0 });
      expect(await h.db.checkRun.count({ where: { sessionId: id } })).toBe(0);
    });

  it('a token without --terminals: 403 for a terminal, like any other route otherwise', async () => {
    const terminal = routes().find((r) => r.name === 'POST terminals/shell/token')!;
    const res = await send(terminal, { token: tokens.valid });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/^this token may not open terminals/);
    expect((await send(routes()[0], { token: tokens.valid })).status).toBe(200);
  });

  it("the session learner's own cookie does not help a bad token: a Bearer request ignores the cookie", async () => {
    for (const r of routes()) {
      const res = await send(r, { token: tokens.revoked, cookie: learnerId });
      expect(res.status, r.name).toBe(401);
    }
    expect((await send(routes()[0], { cookie: learnerId })).status).toBe(200); // the cookie alone still works
  });
});

describe('a valid token', () => {
  it('gets the normal answer from every session route, with no cookie set, from any origin', async () => {
    for (const r of routes()) {
      // A state change from a browser on another site is refused with a cookie; a token is no ambient credential.
      const res = await send(r, { token: tokens.terminals, headers: { origin: 'https://elsewhere.example' } });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, `${r.name}: ${String(body.error)}`).toBe(r.ok[0]);
      r.ok[1](body);
      expect(res.headers.get('set-cookie'), r.name).toBeNull();
    }
    expect((await h.db.session.findUniqueOrThrow({ where: { id } })).status).toBe('stopped');
  });

  it('the same cross-site request with the cookie is still refused', async () => {
    const res = await send(
      routes().find((r) => r.name === 'POST extend')!,
      { cookie: learnerId, headers: { origin: 'https://elsewhere.example' } },
    );
    expect(res.status).toBe(403);
  });
});
