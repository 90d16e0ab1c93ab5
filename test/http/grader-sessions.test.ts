/**
 * Sessions a grader starts for learners, against a real database: who they belong to, the caps
 * that apply, the list of a token's sessions, and the join link that hands one to a browser
 * (single use, 15 minutes, only the code's hash stored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sessionsRoute from '../../app/api/v1/sessions/route';
import * as sessionRoute from '../../app/api/v1/sessions/[id]/route';
import * as joinRoute from '../../app/api/v1/sessions/[id]/join/route';
import * as joinPage from '../../app/join/[code]/route';
import { JoinLinks } from '../../lib/auth/join-links';
import { learnerFromCookieHeader } from '../../lib/auth/learner';
import { call, graderHarness, graderTokens, whenActive, type GraderHarness, type Handler } from '../support/graders';

let h: GraderHarness;
let tokens: Awaited<ReturnType<typeof graderTokens>>;

const start = (json: unknown, init: { token?: string; cookie?: string } = {}) =>
  call(sessionsRoute.POST as Handler<object>, '/api/v1/sessions', {}, { method: 'POST', json, ...init });
const list = (query: string, token?: string) => call(sessionsRoute.GET as Handler<object>, `/api/v1/sessions${query}`, {}, { token });
const open = (url: string, method = 'GET') => {
  const code = new URL(url).pathname.split('/').pop()!;
  return (method === 'HEAD' ? joinPage.HEAD() : joinPage.GET(new Request(url), { params: Promise.resolve({ code }) })) as Promise<Response>;
};
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

interface Started {
  id: string;
  status: string;
  learner: string;
  joinUrl: string;
  joinExpiresAt: string;
}

beforeAll(async () => {
  h = await graderHarness('grader-sessions');
  tokens = await graderTokens(h);
});
afterAll(() => h?.close());

describe('starting a session for a learner', () => {
  let first: Started;

  it('answers 201 with a join link and no cookie, and records the token and the learner', async () => {
    const res = await start({ lab: 'alpha', learner: 'student@example.org' }, { token: tokens.valid });
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toBeNull();
    first = (await res.json()) as Started;
    expect(first).toMatchObject({ status: 'provisioning', learner: 'student@example.org' });
    expect(first.joinUrl).toMatch(/^https:\/\/labs\.example\.org\/join\/[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(first.joinExpiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    const row = await h.db.session.findUniqueOrThrow({ where: { id: first.id } });
    const token = await h.db.apiToken.findUniqueOrThrow({ where: { name: 'valid' } });
    expect(row).toMatchObject({ tokenId: token.id, learnerRef: 'student@example.org', labSlug: 'alpha' });
    await whenActive(h, first.id, row.learnerId);
  });

  it('maps the same learner to the same Labforge learner, so the caps count their sessions', async () => {
    const again = await start({ lab: 'alpha', learner: 'student@example.org' }, { token: tokens.valid });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'conflict', session: { id: first.id, lab: 'alpha' } });
    const other = await start({ lab: 'alpha', learner: 'someone-else' }, { token: tokens.valid });
    expect(other.status).toBe(201);
    const [a, b] = await Promise.all(
      [first.id, ((await other.json()) as Started).id].map((id) => h.db.session.findUniqueOrThrow({ where: { id } }).then((r) => r.learnerId)),
    );
    expect(a).not.toBe(b);
  });

  it('refuses what is not a grader start: 400 for learner without a token or a token without learner, 403 for a lab out of scope', async () => {
    const cookieLearner = 'c'.repeat(32);
    const noToken = await start({ lab: 'alpha', learner: 'x' }, { cookie: cookieLearner });
    expect(noToken.status).toBe(400);
    expect(await errorOf(noToken)).toMatch(/^learner: only a grader token/);
    const noLearner = await start({ lab: 'alpha' }, { token: tokens.valid });
    expect(noLearner.status).toBe(400);
    expect(await errorOf(noLearner)).toMatch(/^learner: a grader token starts sessions for a learner/);
    const badLearner = await start({ lab: 'alpha', learner: 'a b' }, { token: tokens.valid });
    expect(badLearner.status).toBe(400);
    expect(await errorOf(badLearner)).toMatch(/^learner: a learner is named by 1 to 128 characters/);
    const outOfScope = await start({ lab: 'beta', learner: 'x' }, { token: tokens.valid });
    expect(outOfScope.status).toBe(403);
    expect(await errorOf(outOfScope)).toBe('this token may not use the lab "beta"');
    for (const [token, status] of [
      [tokens.revoked, 401],
      [tokens.expired, 401],
      [tokens.unknown, 401],
    ] as const)
      expect((await start({ lab: 'alpha', learner: 'x' }, { token })).status).toBe(status);
    expect(await h.db.session.count({ where: { learnerRef: 'x' } })).toBe(0);
  });

  it("lists the sessions of the token's labs, newest first, by learner and bounded", async () => {
    await start({ lab: 'beta', learner: 'student@example.org' }, { token: tokens.other });
    const all = (await (await list('', tokens.valid)).json()) as Array<{ id: string; lab: string; learner?: string }>;
    expect(all.map((s) => s.lab)).toEqual(['alpha', 'alpha']);
    expect(all[1]).toMatchObject({ id: first.id, learner: 'student@example.org' });
    const mine = (await (await list('?learner=student%40example.org', tokens.valid)).json()) as Array<{ id: string }>;
    expect(mine.map((s) => s.id)).toEqual([first.id]);
    expect(((await (await list('?limit=1', tokens.valid)).json()) as unknown[]).length).toBe(1);
    const tooMany = await list('?limit=500', tokens.valid);
    expect(tooMany.status).toBe(400);
    expect(await errorOf(tooMany)).toBe('limit: must be at most 200');
    // Another lab's token sees only its lab, and not this grader's names for learners.
    const other = (await (await list('', tokens.other)).json()) as Array<{ lab: string }>;
    expect(other.map((s) => s.lab)).toEqual(['beta']);
    expect((await list('', tokens.revoked)).status).toBe(401);
  });

  describe('the join link', () => {
    it('works once: the cookie of the session learner, then the session page', async () => {
      expect((await open(first.joinUrl, 'HEAD')).status).toBe(204); // a link checker's HEAD uses nothing up
      const res = await open(first.joinUrl);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/sessions/${first.id}`);
      const cookie = res.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly; SameSite=Lax/);
      expect(cookie).toMatch(/; Secure$/);
      const learner = learnerFromCookieHeader(cookie.split(';')[0])!;
      expect(learner).toBe((await h.db.session.findUniqueOrThrow({ where: { id: first.id } })).learnerId);
      const view = await call(sessionRoute.GET, `/api/v1/sessions/${first.id}`, { id: first.id }, { cookie: learner });
      expect(view.status).toBe(200);

      const second = await open(first.joinUrl);
      expect(second.status).toBe(410);
      expect(second.headers.get('set-cookie')).toBeNull();
      expect(await second.text()).toContain('This join link was already used');
    });

    it('expires after 15 minutes (410, nothing changes); an unknown code is 404', async () => {
      const links = new JoinLinks(h.db, () => new Date(Date.now() - 16 * 60_000));
      const { code } = await links.mint(first.id);
      const res = await open(`https://labs.example.org/join/${code}`);
      expect(res.status).toBe(410);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('This join link has expired');
      expect((await h.db.joinLink.findMany({ where: { usedAt: null, sessionId: first.id } })).length).toBe(1);
      expect((await open(`https://labs.example.org/join/${'x'.repeat(43)}`)).status).toBe(404);
      expect((await open('https://labs.example.org/join/short')).status).toBe(404);
    });

    it('stores only the hash of its code', async () => {
      const code = new URL(first.joinUrl).pathname.split('/').pop()!;
      const rows = await h.db.joinLink.findMany();
      expect(JSON.stringify(rows)).not.toContain(code);
    });

    it('POST …/join mints another, for a live session this token started', async () => {
      const mint = (id: string, token?: string) => call(joinRoute.POST, `/api/v1/sessions/${id}/join`, { id }, { method: 'POST', token });
      const res = await mint(first.id, tokens.valid);
      expect(res.status).toBe(201);
      const { joinUrl } = (await res.json()) as { joinUrl: string };
      expect((await open(joinUrl)).status).toBe(303);

      const none = await mint(first.id);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="labforge"');
      expect((await mint(first.id, tokens.other)).status).toBe(404);
      // Same lab, but another token's session: it may see it, not hand its learner's cookie out.
      const notMine = await mint(first.id, tokens.terminals);
      expect(notMine.status).toBe(403);
      expect(await errorOf(notMine)).toMatch(/^only sessions this token started/);
      await call(sessionRoute.DELETE, `/api/v1/sessions/${first.id}`, { id: first.id }, { method: 'DELETE', token: tokens.valid });
      const ended = await mint(first.id, tokens.valid);
      expect(ended.status).toBe(409);
      expect(await errorOf(ended)).toBe('this session is stopped: there is nothing to join');
    });
  });
});
