/**
 * The challenge walk (lib/sessions/runbook.ts). The order of scripts, and the messages a failure
 * produces, against a Lifecycle faked at its seam; then cleanup scripts in real sessions: Next
 * after a pass, Next as a skip, and author mode, each observed through the marker file that the
 * fixture's cleanup scripts append to (test/fixtures/walk-lab: first, second, third).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseResult } from '../../lib/checks/scripts';
import type { Db } from '../../lib/db/client';
import type { DockerDriver } from '../../lib/environments/docker/driver';
import { sessionHarness, type SessionHarness } from '../support/sessions';
import type { Environment } from '../../lib/environments/driver';
import { loadLabOrThrow } from '../../lib/labs/loader';
import type { Lab } from '../../lib/labs/schema';
import { Runbook, RunbookError, type Steps } from '../../lib/sessions/runbook';
import type { SessionService } from '../../lib/sessions/service';

const FIXTURE = path.resolve(__dirname, '../fixtures/walk-lab');

/** A Lifecycle that records what it was asked to run; the phase named `failing` fails with "boom". */
function fakeLife(failing?: string) {
  const calls: string[] = [];
  const phase = (name: string): PhaseResult => {
    calls.push(name);
    return name === failing ? { ok: false, runs: [], failure: { host: 'workstation', script: 'x-workstation', message: 'boom' } } : { ok: true, runs: [] };
  };
  const life: Steps = {
    trackSetup: async () => phase('track setup'),
    challenge: async (c, kind) => phase(`${kind} ${c.slug}`),
    check: async (c) => ({ passed: phase(`check ${c.slug}`).ok, message: 'checked', output: [], durationMs: 0 }),
  };
  return { calls, life };
}

describe('the walk, against a faked Lifecycle', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await loadLabOrThrow(FIXTURE);
  });

  it('author mode: setup → solve → cleanup for each earlier challenge, in order, then the target is entered', async () => {
    const { calls, life } = fakeLife();
    const wrapped: string[] = [];
    await new Runbook(lab, life).startAt(2, async (c, what, run) => {
      wrapped.push(`${what} ${c.slug}`);
      await run();
    });
    expect(calls).toEqual(['setup first', 'solve first', 'cleanup first', 'setup second', 'solve second', 'cleanup second', 'setup third']);
    expect(wrapped).toEqual(['replay first', 'replay second', 'enter third']);
  });

  it('author mode stops at the first failing script, with the message sessions store', async () => {
    const { calls, life } = fakeLife('solve second');
    const err = await new Runbook(lab, life).startAt(2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunbookError);
    expect(err).toMatchObject({ message: 'solve of "Step 2" failed: boom', reason: 'boom' });
    expect(calls.at(-1)).toBe('solve second');
  });

  it('startAt(0) only enters the first challenge; prepare() is track setup', async () => {
    const { calls, life } = fakeLife();
    const book = new Runbook(lab, life);
    await book.prepare();
    await book.startAt(0);
    expect(calls).toEqual(['track setup', 'setup first']);
    await expect(new Runbook(lab, fakeLife('track setup').life).prepare()).rejects.toThrow('track setup failed: boom');
    await expect(new Runbook(lab, fakeLife('setup third').life).enter(2)).rejects.toThrow('setup of "Step 3" failed: boom');
  });

  it('leave: cleanup only; a skip solves first; a failed skip cleans up nothing; a failed cleanup is returned', async () => {
    const plain = fakeLife();
    expect((await new Runbook(lab, plain.life).leave(0)).ok).toBe(true);
    expect(plain.calls).toEqual(['cleanup first']);

    const skip = fakeLife();
    await new Runbook(lab, skip.life).leave(1, { skip: true });
    expect(skip.calls).toEqual(['solve second', 'cleanup second']);

    const badSolve = fakeLife('solve first');
    await expect(new Runbook(lab, badSolve.life).leave(0, { skip: true })).rejects.toThrow('could not skip "Step 1": solve failed: boom');
    expect(badSolve.calls).toEqual(['solve first']);

    const badCleanup = fakeLife('cleanup first');
    expect(await new Runbook(lab, badCleanup.life).leave(0)).toMatchObject({ ok: false, failure: { message: 'boom' } });
  });

  it('check: scripts through the Lifecycle; a quiz grades the answers and runs nothing', async () => {
    const quiz = { ...lab.challenges[2], index: 3, slug: 'quiz', type: 'quiz' as const, answers: ['a', 'b'], solution: [1], scripts: {} };
    const { calls, life } = fakeLife();
    const book = new Runbook({ ...lab, challenges: [...lab.challenges, quiz] }, life);
    expect((await book.check(0)).passed).toBe(true);
    expect((await book.check(3, [1])).passed).toBe(true);
    expect((await book.check(3, [0])).passed).toBe(false);
    await expect(book.check(3)).rejects.toThrow(/this challenge is a quiz/);
    expect(calls).toEqual(['check first']);
  });
});

describe('sessions run cleanup scripts (real containers)', () => {
  const learner = 'r'.repeat(32);
  let h: SessionHarness;
  let driver: DockerDriver;
  let db: Db;

  beforeAll(async () => {
    h = await sessionHarness('runbook', { copy: FIXTURE });
    ({ driver, db } = h);
    expect(h.catalog.get('walk-lab'), 'fixture lab loads').toBeDefined();
  });

  afterAll(async () => h?.close());

  async function active(svc: SessionService, id: string) {
    await expect.poll(async () => (await svc.get(id, learner)).status, { timeout: 120_000, interval: 250 }).not.toBe('provisioning');
    const view = await svc.get(id, learner);
    expect(view.status, view.error ?? '').toBe('active');
    const row = await db.session.findUniqueOrThrow({ where: { id } });
    return { view, env: JSON.parse(row.environment!) as Environment };
  }
  const cat = async (env: Environment, file: string) => (await driver.readFile(env, 'workstation', file)).toString();

  it('Next after a pass runs the challenge cleanup; Next as a skip solves, then cleans up', async () => {
    const svc = h.service();
    const { id } = await svc.start('walk-lab', learner);
    const { env } = await active(svc, id);
    await driver.exec(env, 'workstation', ['touch', '/root/first']);
    expect((await svc.check(id, learner)).passed).toBe(true);
    expect((await svc.next(id, learner)).challenge).toBe('second');
    expect(await cat(env, '/root/cleanups')).toBe('first\n');

    const third = await svc.next(id, learner); // not checked: a skip
    expect(third.challenge).toBe('third');
    expect(third.challenges[1].status).toBe('skipped');
    expect(await cat(env, '/root/second')).toBe(''); // its solve ran
    expect(await cat(env, '/root/cleanups')).toBe('first\nsecond\n');
    await svc.stop(id, learner);
  }, 180_000);

  it('author mode replays earlier challenges through their cleanup before entering the target', async () => {
    const svc = h.service({ authorMode: true });
    const { id } = await svc.start('walk-lab', learner, { challenge: 'third' });
    const { view, env } = await active(svc, id);
    expect(view.challenge).toBe('third');
    expect(view.challenges.map((c) => c.status)).toEqual(['skipped', 'skipped', 'active']);
    expect(view.progress.map((p) => p.step)).toEqual(
      expect.arrayContaining(['Solving "Step 1" (author mode)', 'Solving "Step 2" (author mode)', 'Preparing "Step 3"']),
    );
    expect(await cat(env, '/root/cleanups')).toBe('first\nsecond\n');
    await svc.stop(id, learner);
  }, 180_000);
});
