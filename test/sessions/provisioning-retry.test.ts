/**
 * Preparing a session is a job that is tried again when its backend does not answer (an engine
 * restarting), with the learner told why, and not when the failure is the lab's or the backend
 * answers. The real in-process queue (its retries after a short test delay), a real database, and
 * an in-memory engine that can be made silent. And a session ends once: a preparation failing
 * as the learner stops it does not turn the stop into a failure.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { EnvironmentError, type Environment, type EnvironmentSpec } from '../../lib/environments/driver';
import { InProcessQueue, JOB_RETRY } from '../../lib/jobs/queue';
import { LabCatalog } from '../../lib/labs/catalog';
import { RETRIED_STEP, RETRY_STEP } from '../../lib/sessions/provisioning';
import { SessionRepository } from '../../lib/sessions/repository';
import { SessionService } from '../../lib/sessions/service';
import { databaseForThisFile } from '../support/database';
import { MemoryDriver } from '../support/memory-driver';
import { labCatalog, oneHostTrack, shellChallenge } from '../support/sessions';
import { waitFor } from '../support/wait';

/** An engine that can stop answering (`silent`), or refuse one environment while answering (`refuse`). */
class FlakyEngine extends MemoryDriver {
  silent = false;
  refuse: string | undefined;
  creates = 0;
  async ping(): Promise<void> {
    if (this.silent) throw new Error('connect ECONNREFUSED /var/run/docker.sock');
  }
  override async create(spec: EnvironmentSpec): Promise<Environment> {
    this.creates++;
    if (this.silent) throw new EnvironmentError('the Docker engine does not answer: connect ECONNREFUSED /var/run/docker.sock');
    if (this.refuse) throw new EnvironmentError(this.refuse);
    return super.create(spec);
  }
}

const t = databaseForThisFile('provisioning-retry');
const learner = 'r'.repeat(32);
let catalog: LabCatalog;

beforeAll(async () => {
  const files = { 'retried/track.yml': oneHostTrack('retried', 'Retried'), 'retried/01-first/assignment.md': shellChallenge('first', 'First', 'Do it.') };
  catalog = await labCatalog(path.join(t.dir, 'labs'), { files });
});

function service(engine: FlakyEngine, retryMs: number) {
  const jobs = new InProcessQueue(log, () => retryMs);
  return new SessionService({ db: t.db, catalog, drivers: { docker: engine }, log, jobs, replicaId: 'r-one' });
}

const settled = (svc: SessionService, id: string) =>
  waitFor(
    'the session to leave provisioning',
    async () => {
      const v = await svc.get(id, learner);
      return v.status !== 'provisioning' && v;
    },
    10_000,
    20,
  );

describe('preparing a session when the backend does not answer', () => {
  it('waits, telling the learner why, and is prepared once the engine answers again', async () => {
    const engine = new FlakyEngine();
    engine.silent = true;
    const svc = service(engine, 400);
    const { id } = await svc.start('retried', learner);
    const waiting = await waitFor(
      'the session to wait for another attempt',
      async () => {
        const v = await svc.get(id, learner);
        return v.progress.some((p) => p.step === RETRY_STEP) && v;
      },
      5_000,
      20,
    );
    expect(waiting.status).toBe('provisioning');
    expect(waiting.progress.at(-1)).toMatchObject({
      step: RETRY_STEP,
      status: 'running',
      detail: expect.stringMatching(/^the engine did not answer \(.*does not answer.*\); attempt 1 of 6$/),
    });
    // Unclaimed while it waits: whichever replica takes the retry may prepare it.
    expect((await t.db.session.findUniqueOrThrow({ where: { id } })).replicaId).toBeNull();

    engine.silent = false;
    const view = await settled(svc, id);
    expect(view.status).toBe('active');
    const steps = view.progress.map((p) => p.step);
    expect(steps[0]).toBe(RETRIED_STEP);
    expect(view.progress[0].detail).toBe(waiting.progress.at(-1)!.detail);
    expect(steps).not.toContain(RETRY_STEP);
    expect(engine.creates).toBe(2);
    await svc.stop(id, learner);
  });

  it('fails at once, with the reason, when the engine answers: the failure is the lab environment', async () => {
    const engine = new FlakyEngine();
    engine.refuse = 'image labforge/missing not found';
    const svc = service(engine, 10);
    const { id } = await svc.start('retried', learner);
    const view = await settled(svc, id);
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/image labforge\/missing not found/);
    expect(engine.creates).toBe(1);
  });

  it('fails after the last attempt when the engine never answers, saying why', async () => {
    const engine = new FlakyEngine();
    engine.silent = true;
    const svc = service(engine, 10);
    const { id } = await svc.start('retried', learner);
    const view = await settled(svc, id);
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/does not answer/);
    expect(engine.creates).toBe(JOB_RETRY.limit + 1);
  });
});

describe('a session ends once', () => {
  it('keeps the first end: a late failure changes neither the status nor the events', async () => {
    const repo = new SessionRepository(t.db, () => new Date());
    const id = 'endsonce000001';
    await repo.create(id, catalog.get('retried')!, learner, {});
    expect(await repo.end(id, 'stopped')).toBe(true);
    expect(await repo.end(id, 'failed', 'stopped waiting for its turn to be prepared')).toBe(false);
    expect(await t.db.session.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'stopped', error: null });
    const events = await t.db.event.findMany({ where: { sessionId: id, type: { startsWith: 'session.' } } });
    expect(events.map((e) => e.type)).toEqual(['session.stopped']);
  });
});
