/**
 * Analytics over a real SQLite database (migrated like a server's): sessions of one lab seeded
 * for two invites, one without an invite, one out of the range and one of another lab, with
 * their challenge progress and check runs; the numbers per lab and per invite, the caps, and
 * the CSV export route. Then a quiz answered through the real session service (in-memory
 * driver): the choices are recorded with the try (CheckRun.output) and counted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { labAnalytics, parseFilters, readInvites, type LabAnalytics } from '../../lib/analytics';
import { loadConfig } from '../../lib/base/config';
import { log } from '../../lib/base/log';
import { createDb, type Db } from '../../lib/db/client';
import { LabCatalog } from '../../lib/labs/catalog';
import type { Lab } from '../../lib/labs/schema';
import { setRuntime, type Runtime } from '../../lib/runtime';
import { SessionService } from '../../lib/sessions/service';
import { MemoryDriver } from '../support/memory-driver';
import { migratedDatabase } from '../support/database';

// The export route's sign-in (lib/http/instructor.ts) is the accounts' business: here a request with a cookie is an instructor.
vi.mock('../../lib/http/instructor', async () => {
  const { HttpError } = await import('../../lib/http/route');
  return {
    instructorFor: async (req: Request) => {
      if (!req.headers.get('cookie')) throw new HttpError(401, 'sign in as an instructor first (/login)');
      return { id: 'u1', email: 'i@example.org', name: 'Ines', role: 'instructor' };
    },
  };
});
const exportRoute = await import('../../app/instructor/labs/[slug]/analytics/export/[report]/route');

const NOW = new Date('2026-12-10T12:00:00Z');
const LAB_FILES = (slug: string): Record<string, string> => ({
  [`${slug}/track.yml`]: `slug: ${slug}\ntitle: Lab ${slug}\nenvironment:\n  driver: docker\n  hosts:\n    - name: workstation\n      image: labforge/base\n`,
  [`${slug}/01-first/assignment.md`]: '---\nslug: first\ntitle: First\n---\nDo it.\n',
  [`${slug}/01-first/check-workstation`]: '#!/bin/bash\nexit 0\n',
  [`${slug}/02-pick/assignment.md`]: '---\nslug: pick\ntitle: Pick one\ntype: quiz\nanswers: [red, green, blue]\nsolution: [1]\n---\nWhich?\n',
  [`${slug}/03-last/assignment.md`]: '---\nslug: last\ntitle: Last\n---\nDone.\n',
  [`${slug}/03-last/check-workstation`]: '#!/bin/bash\nexit 0\n',
});

let dir: string;
let db: Db;
let catalog: LabCatalog;
let lab: Lab;

const t = (iso: string, plusSeconds = 0) => new Date(new Date(iso).getTime() + plusSeconds * 1000);
type Progress = { status: string; started?: number; completed?: number };
/** A session created at `created`; `progress[i]` of challenge i (seconds after `created`); check runs as [challenge, passed, message | selected]. */
async function seed(id: string, o: { lab?: string; invite?: string; created: string; progress: Progress[]; runs?: [string, boolean, string | number[]][] }) {
  const created = t(o.created);
  const slugs = ['first', 'pick', 'last'];
  await db.session.create({
    data: {
      id,
      labSlug: o.lab ?? 'quizlab',
      learnerId: `learner-${id}`,
      status: 'active',
      inviteId: o.invite,
      createdAt: created,
      challenges: {
        create: o.progress.map((p, index) => ({
          index,
          slug: slugs[index],
          status: p.status,
          startedAt: p.started === undefined ? null : t(o.created, p.started),
          completedAt: p.completed === undefined ? null : t(o.created, p.completed),
        })),
      },
    },
  });
  for (const [n, [challenge, passed, what]] of (o.runs ?? []).entries()) {
    const quiz = Array.isArray(what);
    await db.checkRun.create({
      data: {
        sessionId: id,
        challenge,
        kind: quiz ? 'quiz' : 'check',
        passed,
        message: quiz ? (passed ? 'Correct!' : 'Not quite: that is not the right answer.') : what,
        output: JSON.stringify(quiz ? [{ selected: what }] : [{ host: 'workstation', exitCode: passed ? 0 : 1 }]),
        durationMs: 5,
        createdAt: t(o.created, 10 + n),
      },
    });
  }
}

const LOCKED = { status: 'locked' };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-analytics-'));
  const labsDir = path.join(dir, 'labs');
  for (const [rel, text] of Object.entries({ ...LAB_FILES('quizlab'), ...LAB_FILES('livequiz'), ...LAB_FILES('otherlab') })) {
    fs.mkdirSync(path.dirname(path.join(labsDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(labsDir, rel), text, { mode: rel.includes('check-') ? 0o755 : 0o644 });
  }
  const config = loadConfig({
    LABFORGE_DATA_DIR: dir,
    LABFORGE_LABS_DIR: labsDir,
    DATABASE_URL: await migratedDatabase(dir),
  } as unknown as NodeJS.ProcessEnv);
  db = createDb(config.databaseUrl);
  catalog = new LabCatalog(labsDir);
  await catalog.load();
  lab = catalog.get('quizlab') as Lab;
  setRuntime({ config, db, catalog, log } as unknown as Runtime);

  for (const slug of ['quizlab', 'otherlab']) await db.lab.create({ data: { slug, title: `Lab ${slug}`, driver: 'docker', digest: '' } });
  await db.invite.create({ data: { id: 'w1', hash: 'h1', name: 'Workshop one', createdAt: t('2026-11-01T00:00:00Z') } });
  await db.invite.create({ data: { id: 'w2', hash: 'h2', name: 'Workshop two', createdAt: t('2026-11-02T00:00:00Z') } });

  // w1: two sessions on Dec 1 (UTC), one at 23:30.
  await seed('s1', {
    invite: 'w1',
    created: '2026-12-01T09:00:00Z',
    progress: [
      { status: 'completed', started: 0, completed: 600 },
      { status: 'completed', started: 600, completed: 720 },
      { status: 'active', started: 720 },
    ],
    runs: [
      ['first', false, 'listener  not\trunning'],
      ['first', false, 'listener not running\n'],
      ['first', true, 'ok'],
      ['pick', false, [0]],
      ['pick', true, [1]],
    ],
  });
  await seed('s2', {
    invite: 'w1',
    created: '2026-12-01T23:30:00Z',
    progress: [
      { status: 'completed', started: 0, completed: 300 },
      { status: 'failed', started: 300 },
      { status: 'active', started: 400 },
    ],
    runs: [
      ['first', false, 'port 80 closed'],
      ['first', true, 'ok'],
      ['pick', false, [2]],
      ['pick', false, [2, 2]],
    ],
  });
  // w2: one learner stuck on the first challenge, one whose session never got going.
  await seed('s3', {
    invite: 'w2',
    created: '2026-12-02T08:00:00Z',
    progress: [{ status: 'active', started: 0 }, LOCKED, LOCKED],
    runs: [
      ['first', false, 'listener not running'],
      ['first', false, 'listener not running'],
      ['first', false, ' listener not running '],
    ],
  });
  await seed('s4', { invite: 'w2', created: '2026-12-05T10:00:00Z', progress: [LOCKED, LOCKED, LOCKED] });
  // No invite: skipped the first challenge.
  await seed('s5', {
    created: '2026-12-03T12:00:00Z',
    progress: [
      { status: 'skipped', started: 0 },
      { status: 'completed', started: 100, completed: 160 },
      { status: 'completed', started: 200, completed: 1100 },
    ],
    runs: [['pick', true, [1]]],
  });
  // Out of the last 30 days, and another lab: never counted for quizlab's last 30 days.
  await seed('s6', { invite: 'w1', created: '2026-10-01T10:00:00Z', progress: [{ status: 'completed', started: 0, completed: 50 }, LOCKED, LOCKED] });
  await seed('s7', {
    lab: 'otherlab',
    invite: 'w1',
    created: '2026-12-02T10:00:00Z',
    progress: [{ status: 'completed', started: 0, completed: 5 }, LOCKED, LOCKED],
    runs: [['first', false, 'listener not running']],
  });
});

afterAll(async () => {
  setRuntime(undefined);
  await db?.$disconnect();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function analytics(query: Record<string, string>, opts = {}): Promise<LabAnalytics> {
  const parsed = parseFilters(query, NOW);
  if (!parsed.ok) throw new Error(parsed.error);
  const data = await labAnalytics(db, lab, parsed.filters, opts);
  if (!data) throw new Error('no such invite');
  return data;
}
const counts = (a: LabAnalytics) => a.funnel.map((r) => [r.slug, r.reached, r.completed, r.skipped]);

describe('analytics of a lab, over the last 30 days', () => {
  it('counts the sessions of this lab in the range, every invite', async () => {
    const a = await analytics({});
    expect(a).toMatchObject({ lab: { slug: 'quizlab', title: 'Lab quizlab' }, invite: null, sessions: 5, truncated: false });
    expect(a.from).toBe('2026-11-11T00:00:00.000Z');
  });

  it('funnel: reached, completed and skipped per challenge, in order', async () => {
    expect(counts(await analytics({}))).toEqual([
      ['first', 4, 2, 1],
      ['pick', 3, 2, 0],
      ['last', 3, 1, 0],
    ]);
  });

  it('times: median and p90 of completed challenges', async () => {
    expect((await analytics({})).times.map((r) => [r.slug, r.completed, r.medianSeconds, r.p90Seconds])).toEqual([
      ['first', 2, 450, 570],
      ['pick', 2, 90, 114],
      ['last', 1, 900, 900],
    ]);
  });

  it('failures: failed Checks by normalized message, quiz tries left out', async () => {
    expect((await analytics({})).failures).toEqual([
      {
        index: 0,
        slug: 'first',
        title: 'First',
        total: 6,
        messages: [
          { message: 'listener not running', count: 5 },
          { message: 'port 80 closed', count: 1 },
        ],
      },
    ]);
  });

  it('quiz: each choice counted over every graded try', async () => {
    const [pick] = (await analytics({})).quiz;
    expect(pick).toMatchObject({ slug: 'pick', submissions: 5 });
    expect(pick.choices.map((c) => [c.text, c.correct, c.picks])).toEqual([
      ['red', false, 1],
      ['green', true, 2],
      ['blue', false, 2],
    ]);
  });

  it('starts: per UTC day, every day of the range', async () => {
    const { starts } = await analytics({});
    expect(starts).toHaveLength(30);
    expect(starts.filter((d) => d.starts)).toEqual([
      { day: '2026-12-01', starts: 2 },
      { day: '2026-12-02', starts: 1 },
      { day: '2026-12-03', starts: 1 },
      { day: '2026-12-05', starts: 1 },
    ]);
  });
});

describe('analytics of one invite', () => {
  it('w1: only its sessions of this lab in the range', async () => {
    const a = await analytics({ invite: 'w1' });
    expect(a).toMatchObject({ invite: { id: 'w1', name: 'Workshop one' }, sessions: 2 });
    expect(counts(a)).toEqual([
      ['first', 2, 2, 0],
      ['pick', 2, 1, 0],
      ['last', 2, 0, 0],
    ]);
    expect(a.times.map((r) => [r.medianSeconds, r.p90Seconds])).toEqual([
      [450, 570],
      [120, 120],
      [null, null],
    ]);
    expect(a.failures[0].messages).toEqual([
      { message: 'listener not running', count: 2 },
      { message: 'port 80 closed', count: 1 },
    ]);
    expect(a.quiz[0].submissions).toBe(4);
    expect(a.quiz[0].choices.map((c) => c.picks)).toEqual([1, 1, 2]);
    expect(a.starts.filter((d) => d.starts)).toEqual([{ day: '2026-12-01', starts: 2 }]);
  });

  it('w2: a stuck learner and a session that never started', async () => {
    const a = await analytics({ invite: 'w2' });
    expect(a.sessions).toBe(2);
    expect(counts(a)).toEqual([
      ['first', 1, 0, 0],
      ['pick', 0, 0, 0],
      ['last', 0, 0, 0],
    ]);
    expect(a.times.every((r) => r.completed === 0 && r.medianSeconds === null)).toBe(true);
    expect(a.failures.map((g) => [g.slug, g.messages])).toEqual([['first', [{ message: 'listener not running', count: 3 }]]]);
    expect(a.quiz[0].submissions).toBe(0);
  });

  it('w1 in an older range: the session of October only', async () => {
    const a = await analytics({ invite: 'w1', since: '2026-09-01', until: '2026-10-31' });
    expect(a.sessions).toBe(1);
    expect(counts(a)[0]).toEqual(['first', 1, 1, 0]);
    expect(a.starts).toHaveLength(61);
  });

  it('an invite that does not exist is null; the invites offered are those with sessions of this lab', async () => {
    const parsed = parseFilters({ invite: 'nope' }, NOW);
    expect(parsed.ok && (await labAnalytics(db, lab, parsed.filters))).toBeNull();
    expect(await readInvites(db, 'quizlab')).toEqual([
      { id: 'w2', name: 'Workshop two' },
      { id: 'w1', name: 'Workshop one' },
    ]);
    expect(await readInvites(db, 'livequiz')).toEqual([]);
  });

  it('a range with no session: zeros everywhere, every day present', async () => {
    const a = await analytics({ since: '2026-06-01', until: '2026-06-07' });
    expect(a.sessions).toBe(0);
    expect(counts(a).every(([, r, c, s]) => r === 0 && c === 0 && s === 0)).toBe(true);
    expect(a.failures).toEqual([]);
    expect(a.starts.map((d) => d.starts)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('caps', () => {
  it('past the session cap, the newest sessions count, in every report, and the answer says so', async () => {
    const a = await analytics({}, { caps: { sessions: 2, rows: 100 } });
    // s4 (Dec 5, nothing reached) and s5 (Dec 3, first skipped).
    expect(a).toMatchObject({ sessions: 2, truncated: true });
    expect(counts(a)).toEqual([
      ['first', 1, 0, 1],
      ['pick', 1, 1, 0],
      ['last', 1, 1, 0],
    ]);
    expect(a.quiz[0].submissions).toBe(1);
    expect(a.failures).toEqual([]);
  });

  it('a row cap marks the answer truncated too', async () => {
    expect((await analytics({}, { caps: { sessions: 100, rows: 1 } })).truncated).toBe(true);
  });
});

describe('GET /instructor/labs/:slug/analytics/export/:report', () => {
  const get = (slug: string, report: string, query = '', cookie: string | null = 'labforge_login=x') =>
    exportRoute.GET(new Request(`http://localhost/instructor/labs/${slug}/analytics/export/${report}${query}`, { headers: cookie ? { cookie } : {} }), {
      params: Promise.resolve({ slug, report }),
    });

  it('answers the report as a CSV download with the filters of the page', async () => {
    const res = await get('quizlab', 'failures', '?invite=w2&since=2026-12-01&until=2026-12-09');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="labforge-quizlab-failures-w2-2026-12-01_2026-12-09.csv"');
    expect(await res.text()).toBe('challenge_index,challenge,title,rank,message,count,challenge_failures\r\n0,first,First,1,listener not running,3,3\r\n');
    const quiz = await (await get('quizlab', 'quiz', '?since=2026-12-01&until=2026-12-09')).text();
    expect(quiz.split('\r\n').slice(1, 4)).toEqual(['1,pick,Pick one,0,red,false,1,5', '1,pick,Pick one,1,green,true,2,5', '1,pick,Pick one,2,blue,false,2,5']);
    for (const report of ['funnel', 'times', 'starts']) expect((await get('quizlab', report, '?days=7')).status).toBe(200);
  });

  it('401 without a sign-in; 404 for an unknown lab, report or invite; 400 for bad filters', async () => {
    expect((await get('quizlab', 'funnel', '', null)).status).toBe(401);
    expect((await get('nolab', 'funnel')).status).toBe(404);
    expect((await get('Bad_Slug!', 'funnel')).status).toBe(404);
    const report = await get('quizlab', 'everything');
    expect(report.status).toBe(404);
    expect(((await report.json()) as { error: string }).error).toMatch(/one of funnel, times, failures, quiz, starts/);
    expect((await get('quizlab', 'funnel', '?invite=nope')).status).toBe(404);
    const bad = await get('quizlab', 'funnel', '?days=0');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^days: /);
  });
});

describe('quiz answers are recorded where they are checked', () => {
  it('a graded try stores its choices (CheckRun.output, kind quiz) and analytics count them; a refused one is not a try', async () => {
    const svc = new SessionService({ db, catalog, drivers: { docker: new MemoryDriver() }, log });
    const learner = 'learner-live';
    const { id } = await svc.start('livequiz', learner);
    for (const deadline = Date.now() + 10_000; (await svc.get(id, learner)).status !== 'active'; await new Promise((r) => setTimeout(r, 20)))
      if (Date.now() > deadline) throw new Error('session did not become active');
    expect((await svc.check(id, learner)).passed).toBe(true);
    await svc.next(id, learner);
    expect((await svc.check(id, learner, { answers: [2] })).passed).toBe(false);
    await expect(svc.check(id, learner, { answers: [9] })).rejects.toThrow(/no choice 9/);
    expect((await svc.check(id, learner, { answers: [1] })).passed).toBe(true);

    const runs = await db.checkRun.findMany({
      where: { sessionId: id, kind: 'quiz' },
      orderBy: { createdAt: 'asc' },
      select: { challenge: true, passed: true, output: true },
    });
    expect(runs.map((r) => ({ challenge: r.challenge, passed: r.passed, output: JSON.parse(r.output) }))).toEqual([
      { challenge: 'pick', passed: false, output: [{ selected: [2] }] },
      { challenge: 'pick', passed: true, output: [{ selected: [1] }] },
    ]);
    const live = catalog.get('livequiz') as Lab;
    const parsed = parseFilters({ days: '1' });
    const a = parsed.ok ? await labAnalytics(db, live, parsed.filters) : null;
    expect(a?.quiz[0].submissions).toBe(2);
    expect(a?.quiz[0].choices.map((c) => c.picks)).toEqual([0, 1, 1]);
    await svc.stop(id, learner);
  });
});
