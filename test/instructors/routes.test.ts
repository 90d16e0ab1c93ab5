/**
 * The instructor API as Next calls it, on a real database and SessionService (in-memory driver):
 * sign-in with its rate limit, the login every call needs, the live table, extend (beyond the
 * learner's one), message (shown in the learner's view), stop, a viewer's terminal token, and
 * invites with seats, names and revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, graderHarness, whenActive, type GraderHarness } from '../support/graders';
import { createAccount } from '../../lib/accounts/users';
import { resetRateLimits } from '../../lib/http/limits';
import { runtime } from '../../lib/runtime';
import * as login from '../../app/api/instructor/login/route';
import * as liveRoute from '../../app/api/instructor/sessions/route';
import * as extendRoute from '../../app/api/instructor/sessions/[id]/extend/route';
import * as stopRoute from '../../app/api/instructor/sessions/[id]/stop/route';
import * as messageRoute from '../../app/api/instructor/sessions/[id]/message/route';
import * as tokenRoute from '../../app/api/instructor/sessions/[id]/terminals/[tab]/token/route';
import * as invitesRoute from '../../app/api/instructor/invites/route';
import * as inviteRoute from '../../app/api/instructor/invites/[invite]/route';
import * as inviteStart from '../../app/api/invite/[code]/sessions/route';
import type { LiveSession } from '../../lib/instructors/live';

const PASSWORD = 'correct horse battery';
let h: GraderHarness;
let cookie: string;
const as = (c: string) => ({ headers: { cookie: c } });

beforeAll(async () => {
  h = await graderHarness('instructors');
  await createAccount(h.db, { email: 'ada@example.org', name: 'Ada', role: 'instructor', password: PASSWORD });
  const res = await call(login.POST, '/api/instructor/login', {}, { method: 'POST', json: { email: 'ada@example.org', password: PASSWORD } });
  expect(res.status).toBe(200);
  cookie = res.headers.get('set-cookie')!.split(';')[0];
  expect(cookie).toMatch(/^labforge_instructor=/);
});
afterAll(() => h.close());

async function learnerSession(learner: string, lab = 'alpha') {
  const { id } = await h.svc.start(lab, learner);
  await whenActive(h, id, learner);
  return id;
}

describe('sign-in', () => {
  it('answers 401 with one message for any mismatch, and 429 past 10 tries a minute for one email', async () => {
    resetRateLimits();
    const attempt = (email: string, password: string) => call(login.POST, '/api/instructor/login', {}, { method: 'POST', json: { email, password } });
    const wrong = await attempt('ada@example.org', 'wrong password');
    const unknown = await attempt('eve@example.org', 'wrong password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((await wrong.json()).error).toBe((await unknown.json()).error);
    for (let i = 0; i < 9; i++) await attempt('ada@example.org', 'wrong password'); // 10 in all
    const limited = await attempt('ADA@example.org', PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await limited.json()).error).toMatch(/Too many sign-in attempts for this email: at most 10 a minute/);
    resetRateLimits();
  });

  it('refuses every instructor call without a login, or with a learner cookie', async () => {
    const id = await learnerSession('learner-a'.padEnd(32, 'x'));
    expect((await call(liveRoute.GET, '/api/instructor/sessions', {})).status).toBe(401);
    expect((await call(liveRoute.GET, '/api/instructor/sessions', {}, { cookie: 'learner-a'.padEnd(32, 'x') })).status).toBe(401);
    expect((await call(stopRoute.POST, `/api/instructor/sessions/${id}/stop`, { id }, { method: 'POST' })).status).toBe(401);
    expect((await call(tokenRoute.POST, `/x`, { id, tab: 'shell' }, { method: 'POST' })).status).toBe(401);
    expect((await call(invitesRoute.GET, '/api/instructor/invites', {})).status).toBe(401);
    await h.svc.stop(id, 'learner-a'.padEnd(32, 'x'));
  });
});

describe('live sessions', () => {
  it('lists each live session with lab and challenge titles, failed checks and the last failure', async () => {
    const learner = 'learner-b'.padEnd(32, 'x');
    const id = await learnerSession(learner);
    h.driver.failWith = 'FAIL: the listener is not running on rebel-base';
    await h.svc.check(id, learner).catch(() => undefined);
    await h.svc.check(id, learner).catch(() => undefined);
    h.driver.failWith = undefined;
    const res = await call(liveRoute.GET, '/api/instructor/sessions', {}, as(cookie));
    expect(res.status).toBe(200);
    const row = ((await res.json()) as LiveSession[]).find((r) => r.id === id)!;
    expect(row).toMatchObject({
      status: 'active',
      labTitle: 'Lab alpha',
      challenge: { index: 0, title: 'First' },
      challengeCount: 2,
      failedChecks: 2,
      terminals: [{ id: 'shell', title: 'Shell' }],
    });
    expect(row.lastFail?.message).toContain('the listener is not running on rebel-base');
    expect(row.learner).toMatch(/^learner-[0-9a-f]{6}$/); // a pseudonym, never the cookie
    expect(JSON.stringify(row)).not.toContain(learner);
    await h.svc.stop(id, learner);
  });

  it('extends past the learner’s one extension, messages the learner, stops the session', async () => {
    const learner = 'learner-c'.padEnd(32, 'x');
    const id = await learnerSession(learner);
    await h.svc.extend(id, learner); // the learner's own
    const before = Date.parse((await h.svc.get(id, learner)).expiresAt!);
    const ext = await call(extendRoute.POST, `/x`, { id }, { method: 'POST', ...as(cookie) });
    expect(ext.status).toBe(200);
    expect(Date.parse((await ext.json()).expiresAt) - before).toBe(15 * 60_000);

    const msg = await call(messageRoute.POST, '/x', { id }, { method: 'POST', ...as(cookie), json: { text: '  Try ip maddr on rebel-base  ' } });
    expect(msg.status).toBe(201);
    const view = await h.svc.get(id, learner);
    expect(view.messages).toEqual([expect.objectContaining({ text: 'Try ip maddr on rebel-base', from: 'Ada' })]);
    const long = await call(messageRoute.POST, '/x', { id }, { method: 'POST', ...as(cookie), json: { text: 'x'.repeat(501) } });
    expect(long.status).toBe(400);
    expect((await long.json()).error).toMatch(/at most 500 characters/);

    const token = await call(tokenRoute.POST, '/x', { id, tab: 'shell' }, { method: 'POST', ...as(cookie) });
    expect(token.status).toBe(200);
    const claims = await runtime().tokens.consume((await token.json()).token);
    expect(claims).toMatchObject({ sessionId: id, tab: 'shell', role: 'viewer', learnerId: learner });
    expect((await call(tokenRoute.POST, '/x', { id, tab: 'nope' }, { method: 'POST', ...as(cookie) })).status).toBe(404);

    expect((await call(stopRoute.POST, '/x', { id }, { method: 'POST', ...as(cookie) })).status).toBe(200);
    expect((await h.svc.get(id, learner)).status).toBe('stopped');
    expect((await call(messageRoute.POST, '/x', { id }, { method: 'POST', ...as(cookie), json: { text: 'hello?' } })).status).toBe(409);
    expect((await call(stopRoute.POST, '/x', { id: 'nope' }, { method: 'POST', ...as(cookie) })).status).toBe(404);
  });
});

describe('invites', () => {
  it('starts sessions under the invite with the learner’s name, up to its seats, until revoked', async () => {
    const made = await call(invitesRoute.POST, '/x', {}, { method: 'POST', ...as(cookie), json: { name: 'Tuesday workshop', labs: ['alpha'], seats: 1 } });
    expect(made.status).toBe(201);
    const { url, invite } = (await made.json()) as { url: string; invite: { id: string; status: string } };
    expect(invite.status).toBe('open');
    const code = url.split('/invite/')[1];
    expect(url).toBe(`https://labs.example.org/invite/${code}`);

    const start = (learner: string | undefined, body: object) =>
      call(inviteStart.POST, `/api/invite/${code}/sessions`, { code }, { method: 'POST', cookie: learner, json: body });
    const first = await start(undefined, { lab: 'alpha', name: 'Luke' });
    expect(first.status).toBe(201);
    const learner = /labforge_learner=([^;]+)/.exec(first.headers.get('set-cookie')!)![1];
    const { id } = await first.json();
    await whenActive(h, id, learner);
    const rows = (await (await call(liveRoute.GET, `/x?invite=${invite.id}`, {}, as(cookie))).json()) as LiveSession[];
    expect(rows.map((r) => [r.learner, r.invite?.name])).toEqual([['Luke', 'Tuesday workshop']]);

    const listed = (await (await call(invitesRoute.GET, '/x', {}, as(cookie))).json()) as Array<{
      id: string;
      seatsTaken: number;
      sessions: number;
      status: string;
    }>;
    expect(listed.find((i) => i.id === invite.id)).toMatchObject({ seatsTaken: 1, sessions: 1, status: 'full' });

    expect((await start(undefined, { lab: 'beta' })).status).toBe(400); // not this invite's lab
    const second = await start(undefined, { lab: 'alpha', name: 'Leia' });
    expect(second.status).toBe(409);
    expect((await second.json()).error).toMatch(/workshop is full: all 1 seats are taken/);

    expect((await call(inviteRoute.DELETE, '/x', { invite: invite.id }, { method: 'DELETE', ...as(cookie) })).status).toBe(200);
    const after = await start(learner, { lab: 'alpha' });
    expect(after.status).toBe(410);
    expect((await after.json()).error).toMatch(/withdrawn/);
    expect((await start(undefined, { lab: 'alpha' })).status).toBe(410);
    const bad = await call(inviteStart.POST, '/x', { code: 'nope' }, { method: 'POST', json: { lab: 'alpha' } });
    expect(bad.status).toBe(404);
    await h.svc.stop(id, learner);
  });

  it('refuses an invite for a lab that is not installed, naming it', async () => {
    const res = await call(invitesRoute.POST, '/x', {}, { method: 'POST', ...as(cookie), json: { name: 'x', labs: ['gamma'] } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('labs: no lab is installed as "gamma"');
  });
});
