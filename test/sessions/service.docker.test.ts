/**
 * The session state machine against a real SQLite database (migrated like the
 * server does) and real containers: the whole life of a session, ownership,
 * restarts, expiry and idle timeouts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../lib/db/client';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { LabCatalog } from '../../lib/labs/catalog';
import { SessionService } from '../../lib/sessions/service';
import { SessionError } from '../../lib/sessions/errors';
import type { Environment } from '../../lib/environments/driver';
import { log } from '../../lib/base/log';
import { WarmPool } from '../../lib/environments/pool/pool';
import { Capacity } from '../../lib/environments/capacity';
import { Lifecycle } from '../../lib/sessions/lifecycle';
import { migratedDatabase } from '../support/database';

const FIXTURE = path.resolve(__dirname, '../fixtures/labs/good');
const instance = `test-${process.pid}`;
let dir: string;
let db: Db;
let catalog: LabCatalog;
const driver = new DockerDriver({ instance });
const ended: string[] = [];
const activated: Array<[string, string, string[]]> = [];

function service(now?: () => Date) {
  return new SessionService({
    db,
    catalog,
    drivers: { docker: driver },
    log,
    now,
    onEnded: async (id) => void ended.push(id),
    onActive: (id, learnerId, tabs) => void activated.push([id, learnerId, tabs]),
  });
}

async function untilStatus(svc: SessionService, id: string, learner: string, status: string, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const view = await svc.get(id, learner);
    if (view.status === status) return view;
    if (view.status !== 'provisioning') throw new Error(`session is ${view.status}: ${view.error}`);
    if (Date.now() > deadline) throw new Error(`still ${view.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function envOf(id: string): Promise<Environment> {
  const row = await db.session.findUniqueOrThrow({ where: { id } });
  return JSON.parse(row.environment!) as Environment;
}

async function containersOf(owner: string) {
  return driver.docker.listContainers({ all: true, filters: { label: [`labforge.session=${owner}`] } });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-sessions-'));
  fs.cpSync(FIXTURE, path.join(dir, 'labs', 'good'), { recursive: true });
  db = createDb(await migratedDatabase(dir));
  catalog = new LabCatalog(path.join(dir, 'labs'));
  await catalog.load();
  expect(catalog.get('good-docker'), 'fixture lab loads').toBeDefined();
});

afterAll(async () => {
  for (const env of await driver.list()) await driver.destroyOwner(env.owner);
  await db?.$disconnect();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a session from start to finish', () => {
  const learner = 'a'.repeat(32);
  let svc: SessionService;
  let id: string;

  it('provisions, runs track and challenge setup, and becomes active', async () => {
    svc = service();
    const started = await svc.start('good-docker', learner);
    expect(started.status).toBe('provisioning');
    id = started.id;
    const view = await untilStatus(svc, id, learner, 'active');
    expect(view.challenge).toBe('meet-the-hosts');
    expect(view.challenges[0].status).toBe('active');
    expect(view.progress.map((p) => p.step)).toEqual(expect.arrayContaining(['Running track setup']));
    expect(view.progress.every((p) => p.status === 'done')).toBe(true);
    const env = await envOf(id);
    const ready = await driver.exec(env, 'workstation', ['cat', '/tmp/track-ready']);
    expect(ready.stdout.trim()).toBe('ready');
    // The terminal gateway is told, so the first challenge's shells start before the page connects.
    expect(activated).toContainEqual([id, learner, ['workstation', 'server']]);
  });

  it('refuses another learner as if the session did not exist', async () => {
    const other = 'b'.repeat(32);
    await expect(svc.get(id, other)).rejects.toMatchObject({ code: 'not_found' });
    await expect(svc.check(id, other)).rejects.toMatchObject({ code: 'not_found' });
    await expect(svc.terminalTarget(id, other, 'workstation')).rejects.toBeInstanceOf(SessionError);
  });

  it('fails a check with the script message, passes once the work is done, then refuses Next before a pass', async () => {
    await expect(svc.next(id, learner)).rejects.toMatchObject({ code: 'conflict' });
    const fail = await svc.check(id, learner);
    expect(fail).toEqual({ passed: false, message: '/root/seen does not exist yet' });
    await driver.exec(await envOf(id), 'workstation', ['touch', '/root/seen']);
    const pass = await svc.check(id, learner);
    expect(pass.passed).toBe(true);
    const runs = await db.checkRun.findMany({ where: { sessionId: id } });
    expect(runs.map((r) => r.passed)).toEqual([false, true]);
    const view = await svc.get(id, learner);
    expect(view.challenges[0]).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('moves on: the next setup runs, the grade reports precisely, the quiz grades, and the last Next completes', async () => {
    const second = await svc.next(id, learner);
    expect(second.challenge).toBe('find-the-word');
    const env = await envOf(id);
    const word = (await driver.exec(env, 'server', ['cat', '/srv/word'])).stdout.trim();
    expect(['apple', 'pear', 'plum']).toContain(word);

    await driver.writeFile(env, 'workstation', '/root/answer.yml', 'word: banana\n');
    const wrong = await svc.check(id, learner);
    expect(wrong.passed).toBe(false);
    expect(wrong.message).toBe('answer.yml line 1: "word" is "banana", expected the word written in /srv/word on the server');
    expect(wrong.message).not.toContain(word);
    await driver.writeFile(env, 'workstation', '/root/answer.yml', `word: ${word}\n`);
    expect((await svc.check(id, learner)).passed).toBe(true);

    const quiz = await svc.next(id, learner);
    expect(quiz.current?.quiz?.answers).toHaveLength(3);
    expect(JSON.stringify(quiz)).not.toContain('solution');
    await expect(svc.check(id, learner)).rejects.toMatchObject({ code: 'invalid' });
    expect(quiz.current?.quiz?.attemptsLeft).toBeUndefined(); // no attempts: in the lab, no cap
    // Wrong is only "wrong": no count of choices to bisect the solution with.
    expect(await svc.check(id, learner, { answers: [0] })).toEqual({
      passed: false,
      message: 'Not quite: that is not the right answer. Read the question again and try once more.',
    });
    expect((await svc.check(id, learner, { answers: [1] })).passed).toBe(true);

    // Looking back is read-only and limited to challenges already reached.
    expect((await svc.challengeAt(id, learner, 0)).slug).toBe('meet-the-hosts');

    const done = await svc.next(id, learner);
    expect(done.status).toBe('completed');
    expect(await containersOf(id)).toEqual([]);
    expect(ended).toContain(id);
  });
});

describe('restarts, expiry and idleness', () => {
  const learner = 'c'.repeat(32);

  it('a restarted server resumes live sessions and fails those whose environment vanished', async () => {
    const first = service();
    const a = (await first.start('good-docker', learner)).id;
    const b = (await first.start('good-docker', learner)).id;
    await untilStatus(first, a, learner, 'active');
    await untilStatus(first, b, learner, 'active');
    // b's containers disappear while the server is down.
    for (const c of await containersOf(b)) await driver.docker.getContainer(c.Id).remove({ force: true });

    const second = service();
    await second.resumeAll();
    expect((await second.get(a, learner)).status).toBe('active');
    const gone = await second.get(b, learner);
    expect(gone.status).toBe('failed');
    expect(gone.error).toMatch(/environment is gone/);
    // The resumed session still works.
    expect((await second.check(a, learner)).message).toBe('/root/seen does not exist yet');
    await second.stop(a, learner);
    expect((await second.get(a, learner)).status).toBe('stopped');
    expect(await containersOf(a)).toEqual([]);
  });

  it('an engine that cannot be asked at restart fails no session: it is resumed, and judged later', async () => {
    const first = service();
    const id = (await first.start('good-docker', learner)).id;
    await untilStatus(first, id, learner, 'active');
    // The same driver, but every question about hosts fails as a busy or restarting engine's would.
    const unreachable = Object.assign(Object.create(driver) as DockerDriver, {
      hosts: async () => {
        throw new Error('connect ECONNREFUSED /var/run/docker.sock');
      },
    });
    const second = new SessionService({ db, catalog, drivers: { docker: unreachable }, log, onEnded: async (x) => void ended.push(x) });
    await second.resumeAll();
    expect((await second.get(id, learner)).status).toBe('active');
    // Once the engine answers again, the session works as before.
    const third = service();
    await third.resumeAll();
    expect((await third.check(id, learner)).message).toBe('/root/seen does not exist yet');
    await third.stop(id, learner);
    expect(await containersOf(id)).toEqual([]);
  });

  it('a session cut off mid-provisioning is failed on restart, with a reason', async () => {
    await db.session.create({ data: { id: 'cutoff0001', labSlug: 'good-docker', learnerId: learner, status: 'provisioning' } });
    await service().resumeAll();
    const view = await service().get('cutoff0001', learner);
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/restarted while this environment was being prepared/);
  });

  it('expires sessions past their time limit, and extends only once', async () => {
    let now = new Date();
    const svc = service(() => now);
    const id = (await svc.start('good-docker', learner)).id;
    const active = await untilStatus(svc, id, learner, 'active');
    const limit = new Date(active.expiresAt!).getTime() - new Date(active.startedAt!).getTime();
    expect(limit).toBe(1200 * 1000);

    const extended = await svc.extend(id, learner);
    expect(new Date(extended.expiresAt!).getTime()).toBe(new Date(active.expiresAt!).getTime() + 15 * 60_000);
    expect(extended.canExtend).toBe(false);
    await expect(svc.extend(id, learner)).rejects.toMatchObject({ code: 'conflict' });

    now = new Date(new Date(extended.expiresAt!).getTime() - 1000);
    await svc.touch(id);
    await svc.sweep();
    expect((await svc.get(id, learner)).status).toBe('active');
    now = new Date(new Date(extended.expiresAt!).getTime() + 1000);
    await svc.sweep();
    const view = await svc.get(id, learner);
    expect(view.status).toBe('expired');
    expect(view.error).toBe('the time limit was reached');
    expect(await containersOf(id)).toEqual([]);
  });

  it('expires sessions idle for longer than the lab allows', async () => {
    let now = new Date();
    const svc = service(() => now);
    const id = (await svc.start('good-docker', learner)).id;
    await untilStatus(svc, id, learner, 'active');
    await svc.extend(id, learner); // 20 + 15 min: the time limit stays out of the way
    now = new Date(now.getTime() + 10 * 60_000); // the fixture's idle_timeout defaults to 30 min
    await svc.sweep();
    expect((await svc.get(id, learner)).status).toBe('active');
    now = new Date(now.getTime() + 21 * 60_000); // 31 min since the last activity
    await svc.sweep();
    const view = await svc.get(id, learner);
    expect(view.status).toBe('expired');
    expect(view.error).toBe('no activity for 30 minutes');
  });
});

describe('warm pools and capacity', () => {
  const learner = 'd'.repeat(32);

  it('claims a ready environment from the pool: track setup already done, the reconciler keeps it', async () => {
    const capacity = new Capacity({ limit: 10, costOf: () => 1 });
    const lab = catalog.get('good-docker')!;
    const pool = new WarmPool([{ lab, size: 1, ttlMs: 3_600_000 }], {
      driver,
      capacity,
      log,
      prepare: async (env) => {
        const r = await new Lifecycle(driver, lab, env, {}).trackSetup();
        if (!r.ok) throw new Error('track setup failed');
      },
    });
    pool.fill();
    try {
      await pool.untilReady('good-docker', 1, 120_000);
      const svc = new SessionService({ db, catalog, drivers: { docker: driver }, log, pool, capacity });
      const t = Date.now();
      const id = (await svc.start('good-docker', learner)).id;
      const view = await untilStatus(svc, id, learner, 'active');
      const warmMs = Date.now() - t;
      expect(view.progress.map((p) => p.step)).toContain('Claiming a ready environment');
      expect(view.progress.map((p) => p.step)).not.toContain('Running track setup');
      const env = await envOf(id);
      expect(env.owner.startsWith('pool-')).toBe(true);
      expect((await driver.exec(env, 'workstation', ['cat', '/tmp/track-ready'])).stdout.trim()).toBe('ready');
      expect(await svc.liveOwners()).toContain(env.owner);
      expect(warmMs).toBeLessThan(60_000); // generous: the point is the path, the bench measures the speed
      await svc.stop(id, learner);
      expect(await containersOf(env.owner)).toEqual([]);
    } finally {
      await pool.stop();
    }
  });

  it('queues a session when the host is full and tells the learner its place', async () => {
    const capacity = new Capacity({ limit: 1, costOf: () => 1 });
    const release = capacity.hold({ id: 'someone-else', cost: 1 });
    const svc = new SessionService({ db, catalog, drivers: { docker: driver }, log, capacity });
    const id = (await svc.start('good-docker', learner)).id;
    await expect
      .poll(async () => (await svc.get(id, learner)).progress.find((p) => p.step === 'Waiting for a free slot')?.detail, { timeout: 10_000 })
      .toBe('number 1 in the queue');
    expect(await containersOf(id)).toEqual([]);
    release();
    const view = await untilStatus(svc, id, learner, 'active');
    expect(view.progress.find((p) => p.step === 'Waiting for a free slot')?.status).toBe('done');
    await svc.stop(id, learner);
    expect(capacity.snapshot().used).toBe(0);
  });
});
