/**
 * Abuse limits (issue #10, "Hold the line", item 3): one client must not be able to take the
 * platform from everyone else. Against the real route handlers, a SessionService over a real
 * SQLite database and real Docker hosts, and the real terminal gateway:
 *
 * - live sessions per learner: 1 per lab, 3 in all (409 naming the live ones), race-free;
 * - rate limits per learner and per client address on starts, Checks and terminal tokens (429 + Retry-After);
 * - at most 4 sockets per terminal tab (the 5th is closed with a reason the page shows);
 * - stored check output: at most 64 KiB per Check, a bounded total per session.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/base/config';
import type { Db } from '../../lib/db/client';
import { oneHostTrack, sessionHarness, shellChallenge, type SessionHarness } from '../support/sessions';
import { log } from '../../lib/base/log';
import { setRuntime, type Runtime } from '../../lib/runtime';
import { SessionService } from '../../lib/sessions/service';
import { TokenStore } from '../../lib/auth/tokens';
import { PEER_HEADER, addressKey, clientAddress, resetRateLimits } from '../../lib/http/limits';
import { CLOSE, decodeServerFrame, encodeHello, encodeInput, type Status } from '../../lib/terminals/common/protocol';
import * as sessionsRoute from '../../app/api/v1/sessions/route';
import * as checkRoute from '../../app/api/v1/sessions/[id]/check/route';
import * as tokenRoute from '../../app/api/v1/sessions/[id]/terminals/[tab]/token/route';
import { connectClient, startServer, type TestServer } from '../terminals/helpers';
import { sleep, waitFor } from '../support/wait';

const track = (slug: string) => oneHostTrack(slug, `Abuse ${slug}`);
const challenge = shellChallenge('only', 'The only challenge', 'Do it.');
/** Four quiet labs (checks fail fast) and one whose check prints 1 MiB on stdout and 1 MiB on stderr, then passes. */
const LABS: Record<string, string> = {};
for (const slug of ['abuse-a', 'abuse-b', 'abuse-c', 'abuse-d']) {
  LABS[`${slug}/track.yml`] = track(slug);
  LABS[`${slug}/01-only/assignment.md`] = challenge;
  LABS[`${slug}/01-only/check-workstation`] = '#!/bin/bash\necho "FAIL: not yet"\nexit 1\n';
}
LABS['abuse-loud/track.yml'] = track('abuse-loud');
LABS['abuse-loud/01-only/assignment.md'] = challenge;
LABS['abuse-loud/01-only/check-workstation'] = "#!/bin/bash\nhead -c 1048576 /dev/zero | tr '\\0' x\nhead -c 1048576 /dev/zero | tr '\\0' y >&2\nexit 0\n";

let h: SessionHarness;
let dir: string;
let db: Db;
let svc: SessionService;
let config: ReturnType<typeof loadConfig>;

const newLearner = () => crypto.randomBytes(24).toString('base64url');

/** Calls a route handler the way Next does (server.ts sets the peer header on every request). */
function call<P>(
  handler: (req: Request, ctx: { params: Promise<P> }) => Promise<Response>,
  url: string,
  params: P,
  opts: { learner?: string; address?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json', [PEER_HEADER]: opts.address ?? '192.0.2.1', ...opts.headers };
  if (opts.learner) headers.cookie = `labforge_learner=${opts.learner}`;
  const req = new Request(`http://localhost${url}`, { method: 'POST', headers, body: JSON.stringify(opts.body ?? {}) });
  return handler(req, { params: Promise.resolve(params) });
}
const startLab = (lab: string, opts: { learner?: string; address?: string } = {}) =>
  call(sessionsRoute.POST, '/api/v1/sessions', {}, { ...opts, body: { lab } });

async function liveOf(learner: string) {
  return db.session.findMany({ where: { learnerId: learner, status: { in: ['provisioning', 'active'] } }, orderBy: { createdAt: 'asc' } });
}
async function stopAll(learner: string) {
  for (const s of await liveOf(learner)) await svc.stop(s.id, learner);
}
const waitActive = (id: string, learner: string) => h.active(svc, id, learner);

beforeAll(async () => {
  h = await sessionHarness('abuse', { files: LABS });
  ({ dir, db } = h);
  const catalog = h.catalog;
  expect(
    catalog
      .list()
      .map((l) => l.track.slug)
      .sort(),
  ).toEqual(['abuse-a', 'abuse-b', 'abuse-c', 'abuse-d', 'abuse-loud']);
  // The server's defaults (no LABFORGE_* set): 1 live session per lab, 3 per learner, default rate limits.
  config = loadConfig({ LABFORGE_DATA_DIR: dir } as unknown as NodeJS.ProcessEnv);
  svc = h.service({
    sessionCaps: { perLab: config.maxSessionsPerLab, perLearner: config.maxSessionsPerLearner },
  });
  setRuntime({ config, db, catalog, drivers: { docker: h.driver }, sessions: svc, tokens: new TokenStore(), log } as unknown as Runtime);
});

beforeEach(() => resetRateLimits());

afterAll(async () => {
  setRuntime(undefined);
  resetRateLimits();
  await h?.close();
});

describe('live sessions per learner', () => {
  it('defaults to 1 per lab and 3 in all', () => {
    expect(config.maxSessionsPerLab).toBe(1);
    expect(config.maxSessionsPerLearner).toBe(3);
  });

  it('a second live session of the same lab answers 409 naming the first', async () => {
    const learner = newLearner();
    const first = await startLab('abuse-a', { learner });
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };

    const again = await startLab('abuse-a', { learner });
    expect(again.status).toBe(409);
    const body = (await again.json()) as { error: string; code: string; session: { id: string; lab: string }; sessions: unknown[] };
    expect(body.code).toBe('conflict');
    expect(body.session).toMatchObject({ id, lab: 'abuse-a' });
    expect(body.sessions).toHaveLength(1);
    expect(body.error).toContain(id);
    expect(body.error).toContain('abuse-a');
    expect(body.error).toMatch(/Resume it at \/sessions\//);
    expect(await liveOf(learner)).toHaveLength(1);

    // Once stopped, the lab can be started again.
    await svc.stop(id, learner);
    const third = await startLab('abuse-a', { learner });
    expect(third.status).toBe(201);
    await stopAll(learner);
  });

  it('a 4th live session overall answers 409 naming all three', async () => {
    const learner = newLearner();
    const ids: string[] = [];
    for (const lab of ['abuse-a', 'abuse-b', 'abuse-c']) {
      const res = await startLab(lab, { learner });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const fourth = await startLab('abuse-d', { learner });
    expect(fourth.status).toBe(409);
    const body = (await fourth.json()) as { error: string; sessions: { id: string; lab: string }[] };
    expect(body.sessions.map((s) => s.id)).toEqual(ids);
    expect(body.sessions.map((s) => s.lab)).toEqual(['abuse-a', 'abuse-b', 'abuse-c']);
    for (const id of ids) expect(body.error).toContain(id);
    expect(body.error).toMatch(/3 live sessions/);
    expect(await liveOf(learner)).toHaveLength(3);
    // Another learner is not affected.
    const other = newLearner();
    expect((await startLab('abuse-d', { learner: other })).status).toBe(201);
    await stopAll(learner);
    await stopAll(other);
  });

  it('two concurrent starts of one lab create exactly one session; four concurrent labs create exactly three', async () => {
    const learner = newLearner();
    const pair = await Promise.all([startLab('abuse-b', { learner }), startLab('abuse-b', { learner })]);
    expect(pair.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await liveOf(learner)).toHaveLength(1);
    await stopAll(learner);

    const learner2 = newLearner();
    const four = await Promise.all(['abuse-a', 'abuse-b', 'abuse-c', 'abuse-d'].map((lab) => startLab(lab, { learner: learner2 })));
    expect(four.map((r) => r.status).sort()).toEqual([201, 201, 201, 409]);
    expect(await liveOf(learner2)).toHaveLength(3);
    await stopAll(learner2);
  });
});

describe('rate limits', () => {
  it('the 11th start in a minute from one learner answers 429 with Retry-After', async () => {
    const learner = newLearner();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await startLab('abuse-c', { learner, address: '192.0.2.11' })).status);
    // Refused starts count too: 1 created, 9 pointed at it.
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    const res = await startLab('abuse-c', { learner, address: '192.0.2.11' });
    expect(res.status).toBe(429);
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    const body = (await res.json()) as { error: string; code: string };
    expect(body.code).toBe('rate_limited');
    expect(body.error).toMatch(/^Too many lab starts from this browser: at most 10 a minute\. Try again in \d+ s\.$/);
    await stopAll(learner);
  });

  it('per client address: the 31st start in a minute answers 429, whatever cookie or X-Forwarded-For it sends', async () => {
    // Cookie-less clients get a fresh learner each time: the address is what limits them.
    for (let i = 0; i < 30; i++) expect((await startLab('no-such-lab', { address: '203.0.113.7' })).status).toBe(404);
    const res = await startLab('no-such-lab', { address: '203.0.113.7' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { error: string }).error).toMatch(/from your network address: at most 30 a minute/);
    const spoofed = await call(
      sessionsRoute.POST,
      '/api/v1/sessions',
      {},
      { address: '203.0.113.7', body: { lab: 'no-such-lab' }, headers: { 'x-forwarded-for': '198.51.100.9' } },
    );
    expect(spoofed.status).toBe(429);
    // Another address is not affected.
    expect((await startLab('no-such-lab', { address: '203.0.113.8' })).status).toBe(404);
  });

  it('LABFORGE_RATE_LIMITS overrides a limit (0 turns it off); an unknown name fails at start', async () => {
    const env = (v: string) => ({ LABFORGE_DATA_DIR: dir, LABFORGE_RATE_LIMITS: v }) as unknown as NodeJS.ProcessEnv;
    expect(() => loadConfig(env('create.lerner=5'))).toThrow(/unknown limit "create.lerner"/);
    expect(() => loadConfig(env('create.learner=five'))).toThrow(/should look like create.learner=10/);
    const tuned = loadConfig(env('create.learner=2,create.address=0'));
    expect(tuned.rateLimits).toMatchObject({ 'create.learner': 2, 'create.address': 0, 'check.learner': 30 });
    const rt = { config: tuned, db, catalog: h.catalog, drivers: { docker: h.driver }, sessions: svc, tokens: new TokenStore(), log } as unknown as Runtime;
    setRuntime(rt);
    try {
      const learner = newLearner();
      expect((await startLab('no-such-lab', { learner })).status).toBe(404);
      expect((await startLab('no-such-lab', { learner })).status).toBe(404);
      expect((await startLab('no-such-lab', { learner })).status).toBe(429);
      // No address limit: 40 cookie-less starts from one address all get through to the lab lookup.
      for (let i = 0; i < 40; i++) expect((await startLab('no-such-lab', { address: '198.51.100.40' })).status).toBe(404);
    } finally {
      setRuntime({ ...rt, config } as Runtime);
    }
  });

  it('client addresses: X-Forwarded-For only behind a trusted proxy; IPv6 counts per /64', () => {
    const req = (h: Record<string, string>) => new Request('http://localhost/', { headers: h });
    expect(clientAddress(req({ [PEER_HEADER]: '10.0.0.5', 'x-forwarded-for': '1.2.3.4' }), false)).toBe('10.0.0.5');
    expect(clientAddress(req({ [PEER_HEADER]: '10.0.0.5', 'x-forwarded-for': '6.6.6.6, 1.2.3.4' }), true)).toBe('1.2.3.4');
    expect(clientAddress(req({ [PEER_HEADER]: '::ffff:10.0.0.5' }), false)).toBe('10.0.0.5');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
  });

  describe('on an active session', () => {
    const learner = newLearner();
    let id: string;
    beforeAll(async () => {
      resetRateLimits();
      const res = await startLab('abuse-d', { learner, address: '192.0.2.30' });
      expect(res.status).toBe(201);
      id = ((await res.json()) as { id: string }).id;
      await waitActive(id, learner);
    }, 180_000);
    afterAll(() => stopAll(learner));

    it('a Check flood: 40 at once, 30 run and 10 answer 429 at once', async () => {
      const t0 = Date.now();
      const flood = Promise.all(
        Array.from({ length: 40 }, () => call(checkRoute.POST, `/api/v1/sessions/${id}/check`, { id }, { learner, address: '192.0.2.30' })),
      );
      const res = await flood;
      const statuses = res.map((r) => r.status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      expect(statuses.filter((s) => s === 200)).toHaveLength(30);
      const refused = res.find((r) => r.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: string }).error).toMatch(/^Too many checks from this browser: at most 30 a minute/);
      expect(await db.checkRun.count({ where: { sessionId: id } })).toBe(30);
      log.info({ ms: Date.now() - t0 }, 'check flood done');
    }, 120_000);

    it('terminal tokens: the 61st in a minute answers 429', async () => {
      for (let i = 0; i < 60; i++)
        expect((await call(tokenRoute.POST, `/api/v1/sessions/${id}/terminals/shell/token`, { id, tab: 'shell' }, { learner })).status).toBe(200);
      const res = await call(tokenRoute.POST, `/api/v1/sessions/${id}/terminals/shell/token`, { id, tab: 'shell' }, { learner });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await res.json()) as { error: string }).error).toMatch(/terminal connections from this browser: at most 60 a minute/);
    });
  });
});

describe('stored check output', () => {
  it('a check printing 1 MiB on each stream stores at most 64 KiB, marked; the verdict is unaffected; a session keeps a bounded total', async () => {
    const learner = newLearner();
    const { id } = await svc.start('abuse-loud', learner);
    await waitActive(id, learner);

    const verdict = await svc.check(id, learner);
    expect(verdict).toEqual({ passed: true, message: 'Well done: "The only challenge" is complete.' });
    const [run] = await db.checkRun.findMany({ where: { sessionId: id } });
    expect(Buffer.byteLength(run.output)).toBeLessThanOrEqual(64 * 1024);
    const [script] = JSON.parse(run.output) as { script: string; exitCode: number; stdout: string; stderr: string }[];
    expect(script).toMatchObject({ script: 'check-workstation', exitCode: 0 });
    expect(script.stdout).toMatch(/^x+\n\[labforge: \d+ characters cut here; stored check output is capped at 64 KiB per check\]\nx+$/);
    expect(script.stderr).toMatch(/^y+\n\[labforge: \d+ characters cut here/);
    expect(script.stdout.length).toBeGreaterThan(16 * 1024); // the cap keeps as much as fits, not a token amount

    // A session's total is bounded too (here 160 KiB, the default is 5 MiB): the oldest runs' output goes first.
    const small = h.service({ checkOutput: { perRun: 64 * 1024, perSession: 160 * 1024 } });
    for (let i = 0; i < 4; i++) expect((await small.check(id, learner)).passed).toBe(true);
    const runs = await db.checkRun.findMany({ where: { sessionId: id }, orderBy: { createdAt: 'asc' } });
    expect(runs).toHaveLength(5);
    const total = runs.reduce((n, r) => n + Buffer.byteLength(r.output), 0);
    expect(total).toBeLessThanOrEqual(160 * 1024);
    expect(runs.map((r) => r.passed)).toEqual([true, true, true, true, true]);
    const dropped = runs.filter((r) => r.output.includes('output removed'));
    expect(dropped.length).toBeGreaterThanOrEqual(3);
    expect(runs.at(-1)!.output).toContain('xxxx');
    expect(runs.at(-1)!.output).not.toContain('output removed');
    expect(runs.indexOf(dropped.at(-1)!)).toBeLessThan(runs.length - 1); // it is the older ones that went
    await svc.stop(id, learner);
  }, 240_000);
});

describe('sockets per terminal tab', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  /** A bare protocol client that sends HELLO and collects what comes back. */
  async function socket() {
    const ws = new WebSocket(`${srv.url}?token=${await srv.token()}`, { origin: srv.origin });
    const statuses: Status[] = [];
    let text = '';
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (d: Buffer) => {
      const m = decodeServerFrame(d);
      if (!m.ok) return;
      if (m.msg.type === 'status') statuses.push(m.msg.status);
      else if (m.msg.type === 'output') text += Buffer.from(m.msg.data).toString('utf8');
    });
    await new Promise((r, j) => (ws.on('open', r), ws.on('error', j)));
    ws.send(encodeHello({ offset: 0, cols: 80, rows: 24 }));
    return { ws, statuses, closed, text: () => text };
  }

  it('accepts 4; the 5th is closed with 4029 and a reason the page shows; the first 4 keep working', async () => {
    const four = [];
    for (let i = 0; i < 4; i++) four.push(await socket());
    for (const s of four) await waitFor('ready', () => s.statuses.find((x) => x.type === 'ready'));

    const fifth = await socket();
    const { code, reason } = await fifth.closed;
    expect(code).toBe(CLOSE.tooManySockets);
    expect(reason).toBe('too many windows on this terminal');
    expect(fifth.statuses).toContainEqual({
      type: 'error',
      fatal: true,
      message: 'This terminal is already open in 4 windows, the most it can be: close one of them, then reload this page.',
    });

    // The first four are untouched: the keyboard's window (the newest) types, every window sees the output.
    four[3].ws.send(encodeInput('echo STILL_$((40+2))\r'));
    for (const s of four) await waitFor('output in every window', () => s.text().includes('STILL_42'));
    for (const s of four) expect(s.ws.readyState).toBe(WebSocket.OPEN);

    // The browser client stops and shows the reason (no reconnect loop against the limit).
    const page = connectClient(srv);
    await waitFor('closed', () => page.client.state === 'closed');
    expect(page.statuses.at(-1)?.message).toMatch(/already open in 4 windows/);
    await sleep(300);
    expect(page.sockets).toHaveLength(1);

    // A window closed frees its place.
    four[0].ws.close();
    await sleep(100);
    const again = await socket();
    await waitFor('ready', () => again.statuses.find((x) => x.type === 'ready'));
    again.ws.close();
    for (const s of four.slice(1)) s.ws.close();
  });
});
