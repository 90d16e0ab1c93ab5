/**
 * Results for graders (issue #12 item 3) over real sessions on the in-memory driver and a real
 * SQLite database: the JSON and CSV answers of GET /api/v1/results, their scope (a token sees its
 * labs, and learner ids only of the sessions it started), the filters, and `labforge results`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as resultsRoute from '../../app/api/v1/results/route';
import * as sessionsRoute from '../../app/api/v1/sessions/route';
import { run as resultsCli } from '../../cli/commands/results';
import { CSV_COLUMNS } from '../../lib/results/csv';
import type { Results } from '../../lib/results/report';
import { captured } from '../support/cli';
import { call, graderHarness, graderTokens, whenActive, type GraderHarness, type Handler } from '../support/graders';

let h: GraderHarness;
let tokens: Awaited<ReturnType<typeof graderTokens>>;
let before: string;
/** Session ids: ada passed challenge 1 after one failure and is on challenge 2; bob failed twice. */
const ids: Record<string, string> = {};

const results = (query: string, init: { token?: string; headers?: Record<string, string> } = {}) =>
  call(resultsRoute.GET as Handler<object>, `/api/v1/results${query}`, {}, init);

async function startFor(learner: string, lab = 'alpha', token = tokens.valid) {
  const res = await call(sessionsRoute.POST as Handler<object>, '/api/v1/sessions', {}, { method: 'POST', json: { lab, learner }, token });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const row = await h.db.session.findUniqueOrThrow({ where: { id } });
  await whenActive(h, id, row.learnerId);
  return { id, learnerId: row.learnerId };
}

beforeAll(async () => {
  h = await graderHarness('results');
  tokens = await graderTokens(h);
  before = new Date(Date.now() - 1000).toISOString();
  const ada = await startFor('ada');
  h.driver.failWith = '=HYPERLINK("x") listener not running, "yet"';
  await h.svc.check(ada.id, ada.learnerId);
  h.driver.failWith = undefined;
  await h.svc.check(ada.id, ada.learnerId);
  await h.svc.next(ada.id, ada.learnerId);
  const bob = await startFor('bob');
  h.driver.failWith = 'no route to 225.0.0.50';
  await h.svc.check(bob.id, bob.learnerId);
  await h.svc.check(bob.id, bob.learnerId);
  h.driver.failWith = undefined;
  // A session of the other lab, and one of this lab started by another token.
  await startFor('cy', 'beta', tokens.other);
  Object.assign(ids, { ada: ada.id, bob: bob.id });
});
afterAll(() => h?.close());

describe('GET /api/v1/results', () => {
  it("answers per session of the token's labs: score, and per challenge attempts, first pass, time to pass, last failure", async () => {
    const res = await results('');
    expect(res.status).toBe(401);
    const ok = await results('', { token: tokens.valid });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Results;
    expect(body.truncated).toBe(false);
    expect(body.results.map((r) => r.learner)).toEqual(['ada', 'bob']); // oldest first; beta's not in scope
    const [ada, bob] = body.results;
    expect(ada).toMatchObject({ session: ids.ada, lab: 'alpha', status: 'active', score: { passed: 1, total: 2 } });
    expect(ada.challenges[0]).toMatchObject({
      slug: 'first',
      index: 0,
      status: 'completed',
      attempts: 2,
      lastFailure: '=HYPERLINK("x") listener not running, "yet"',
    });
    expect(ada.challenges[0].firstPassAt).not.toBeNull();
    expect(ada.challenges[0].secondsToPass).toBeGreaterThanOrEqual(0);
    expect(ada.challenges[1]).toMatchObject({ slug: 'last', status: 'active', attempts: 0, firstPassAt: null, secondsToPass: null, lastFailure: null });
    expect(bob).toMatchObject({ score: { passed: 0, total: 2 } });
    expect(bob.challenges[0]).toMatchObject({ status: 'active', attempts: 2, firstPassAt: null, lastFailure: 'no route to 225.0.0.50' });
  });

  it('filters by learner, time and count; refuses a lab out of scope and bad parameters with 4xx', async () => {
    const only = (await (await results('?learner=bob', { token: tokens.valid })).json()) as Results;
    expect(only.results.map((r) => r.session)).toEqual([ids.bob]);
    const later = (await (
      await results(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token: tokens.valid })
    ).json()) as Results;
    expect(later.results).toEqual([]);
    const since = (await (await results(`?since=${encodeURIComponent(before)}&limit=1`, { token: tokens.valid })).json()) as Results;
    expect(since).toMatchObject({ truncated: true, results: [{ session: ids.ada }] });
    expect((await results('?lab=beta', { token: tokens.valid })).status).toBe(403);
    for (const bad of ['?since=yesterday', '?limit=0', '?limit=5000', '?lab=Bad_Lab', '?learner=%20', '?colour=red']) {
      const res = await results(bad, { token: tokens.valid });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: string }).error.length).toBeLessThan(200);
    }
    for (const t of [tokens.revoked, tokens.expired, tokens.unknown]) expect((await results('', { token: t })).status).toBe(401);
  });

  it("shows learner ids only on the asking token's own sessions", async () => {
    const mine = (await (await results('', { token: tokens.other })).json()) as Results;
    expect(mine.results.map((r) => r.learner)).toEqual(['cy']);
    // A token for both labs that started none of these sessions sees them, without learner ids.
    const both = (await h.tokens.create({ name: 'both', labs: ['alpha', 'beta'] })).token;
    const seen = (await (await results('', { token: both })).json()) as Results;
    expect(seen.results).toHaveLength(3);
    expect(seen.results.map((r) => r.learner)).toEqual([null, null, null]);
    expect(((await (await results('?learner=ada', { token: both })).json()) as Results).results).toEqual([]);
  });

  it('answers CSV for Accept: text/csv or format=csv, one row per challenge, formulas defused', async () => {
    for (const init of [{ headers: { accept: 'text/csv' } }, {}]) {
      const res = await results(init.headers ? '' : '?format=csv', { token: tokens.valid, ...init });
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const lines = (await res.text()).trimEnd().split('\r\n');
      expect(lines[0]).toBe(CSV_COLUMNS.join(','));
      expect(lines).toHaveLength(1 + 4); // two sessions, two challenges each
      expect(lines[1]).toBe(
        `${ids.ada},ada,alpha,active,1,2,0,first,completed,2,${lines[1].split(',')[10]},${lines[1].split(',')[11]},"'=HYPERLINK(""x"") listener not running, ""yet"""`,
      );
      expect(lines[4]).toBe(`${ids.bob},bob,alpha,active,0,2,1,last,locked,0,,,`);
    }
  });
});

describe('labforge results', () => {
  const open = async () => h.db;
  it('prints a table, CSV or JSON of a lab, with every learner id (an operator sees all)', async () => {
    const table = await captured(() => resultsCli(['alpha'], open));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${ids.ada}  ada  active  1/2  first:completed\\(2\\) last:active\\(0\\)`));
    const csv = await captured(() => resultsCli(['alpha', '--csv', '--learner', 'bob'], open));
    expect(csv.stdout.trimEnd().split('\r\n')).toHaveLength(3);
    const json = await captured(() => resultsCli(['beta', '--json'], open));
    expect((JSON.parse(json.stdout) as Results).results.map((r) => r.learner)).toEqual(['cy']);
    expect((await captured(() => resultsCli(['alpha', '--csv', '--json'], open))).code).toBe(2);
    expect((await captured(() => resultsCli(['alpha', '--since', 'soon'], open))).stderr).toMatch(/--since: "soon" is not a time/);
  });
});
