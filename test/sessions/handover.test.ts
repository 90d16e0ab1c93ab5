/**
 * A replica that is gone while it prepares sessions (lib/sessions/handover.ts): its sessions go
 * back to the job queue, once, however many replicas notice; the retried job removes what the first
 * attempt left and prepares the session again. A real database, an in-memory driver, and a job
 * queue seam that records what is sent and handed back (the queue itself: test/jobs/queue.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { createCapacity } from '../../lib/environments/capacity';
import type { Environment } from '../../lib/environments/driver';
import type { JobHandler, JobQueue, QueueDepth } from '../../lib/jobs/queue';
import { LabCatalog } from '../../lib/labs/catalog';
import { TAKEN_OVER_STEP } from '../../lib/sessions/provisioning';
import { SessionService } from '../../lib/sessions/service';
import { databaseForThisFile } from '../support/database';
import { MemoryDriver } from '../support/memory-driver';

/** Jobs kept for the test to run by hand; `retry` only records; a sent job is pending until the test puts it in `ended`. */
class RecordingQueue implements JobQueue {
  readonly shared = true;
  handler?: JobHandler<object>;
  sent: Array<{ id: string; data: object }> = [];
  retried: Array<{ id: string; reason: string }> = [];
  ended = new Set<string>();
  async work<T extends object>(_name: string, handler: JobHandler<T>) {
    this.handler = handler as JobHandler<object>;
  }
  async send<T extends object>(_name: string, data: T) {
    const id = `job-${this.sent.length + 1}`;
    this.sent.push({ id, data });
    return id;
  }
  async sendPeriodic() {}
  async pending(_name: string, id: string) {
    return this.sent.some((j) => j.id === id) && !this.ended.has(id);
  }
  async retry(_name: string, id: string, reason: string) {
    this.retried.push({ id, reason });
  }
  async depth(): Promise<QueueDepth[]> {
    return [];
  }
  async stop() {}
}

class CountingDriver extends MemoryDriver {
  destroyed: string[] = [];
  destroyedOwners: string[] = [];
  // Rest parameters: MemoryDriver's own take none.
  override async destroy(...args: unknown[]) {
    this.destroyed.push((args[0] as Environment).owner);
  }
  override async destroyOwner(...args: unknown[]) {
    this.destroyedOwners.push(args[0] as string);
  }
}

const t = databaseForThisFile('handover');
let catalog: LabCatalog;
const learner = 'h'.repeat(32);

beforeAll(async () => {
  const lab = path.join(t.dir, 'labs', 'handed');
  fs.mkdirSync(path.join(lab, '01-first'), { recursive: true });
  fs.writeFileSync(
    path.join(lab, 'track.yml'),
    'slug: handed\ntitle: Handed over\nenvironment:\n  driver: docker\n  hosts:\n    - name: workstation\n      image: labforge/base\n',
  );
  fs.writeFileSync(path.join(lab, '01-first', 'assignment.md'), '---\nslug: first\ntitle: First\n---\nDo it.\n');
  catalog = new LabCatalog(path.join(t.dir, 'labs'));
  await catalog.load();
});

const service = (jobs: JobQueue, driver: MemoryDriver, replicaId: string) =>
  new SessionService({ db: t.db, catalog, drivers: { docker: driver }, log, jobs, replicaId });

describe('handing over a gone replica’s sessions', () => {
  it('a start queues a job; the replica that runs it claims the session; a second run of it does nothing', async () => {
    const jobs = new RecordingQueue();
    const driver = new CountingDriver();
    const svc = service(jobs, driver, 'r-one');
    const { id } = await svc.start('handed', learner);
    expect(jobs.sent).toEqual([{ id: 'job-1', data: { sessionId: id, startAt: 0 } }]);
    expect((await t.db.session.findUniqueOrThrow({ where: { id } })).provisionJob).toBe('job-1');
    await jobs.handler!(jobs.sent[0].data, { id: 'job-1', attempt: 1, attempts: 6 });
    const row = await t.db.session.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'active', replicaId: 'r-one' });
    await jobs.handler!(jobs.sent[0].data, { id: 'job-1', attempt: 1, attempts: 6 }); // a duplicate delivery
    expect((await t.db.session.findUniqueOrThrow({ where: { id } })).environment).toBe(row.environment);
    await svc.stop(id, learner);
  });

  it('sends the session back to the queue once, and the retry clears the first attempt and finishes', async () => {
    const jobs = new RecordingQueue();
    const driver = new CountingDriver();
    const gone = service(jobs, driver, 'r-gone');
    const { id } = await gone.start('handed', learner);
    // r-gone claimed it, recorded a half-made environment, and died.
    const halfMade = { owner: id, lab: 'handed', hosts: [], meta: {} } as unknown as Environment;
    await t.db.session.update({
      where: { id },
      data: { replicaId: 'r-gone', environment: JSON.stringify(halfMade), progress: '[{"step":"Creating","status":"running"}]' },
    });

    const live = new Set(['r-live', 'r-other']);
    const survivors = [service(jobs, driver, 'r-live'), service(jobs, driver, 'r-other')];
    const handed = await Promise.all(survivors.map((s) => s.handOver(live)));
    expect(handed.reduce((x, y) => x + y)).toBe(1);
    expect(jobs.retried).toEqual([{ id: 'job-1', reason: 'replica r-gone stopped while preparing it' }]);
    expect((await t.db.session.findUniqueOrThrow({ where: { id } })).replicaId).toBeNull();
    expect(await survivors[0].handOver(live)).toBe(0);

    // The queue's retry reaches r-live: what r-gone left goes, then the session is prepared.
    await jobs.handler!(jobs.sent[0].data, { id: 'job-1', attempt: 2, attempts: 6 });
    expect(driver.destroyed).toContain(id);
    expect(driver.destroyedOwners).toContain(id);
    const view = await survivors[0].get(id, learner);
    expect(view.status).toBe('active');
    expect(view.progress.map((p) => p.step)).toContain(TAKEN_OVER_STEP);
    expect(view.progress.map((p) => p.step)).not.toContain('Creating');
    await survivors[0].stop(id, learner);
  });

  it('leaves the sessions of live replicas alone, fails one whose job ended without it, and lets one whose job waits wait', async () => {
    const jobs = new RecordingQueue();
    const svc = service(jobs, new CountingDriver(), 'r-live');
    const { id: busy } = await svc.start('handed', 'b'.repeat(32));
    await t.db.session.update({ where: { id: busy }, data: { replicaId: 'r-live' } });
    const longAgo = new Date(Date.now() - 31 * 60_000);
    // Its job failed for good (retries used up): nobody will prepare it.
    const { id: lost } = await svc.start('handed', 'l'.repeat(32));
    await t.db.session.update({ where: { id: lost }, data: { createdAt: longAgo } });
    jobs.ended.add(jobs.sent.at(-1)!.id);
    // Its job still waits for a replica (all busy for half an hour, a full classroom): it waits on.
    const { id: queued } = await svc.start('handed', 'q'.repeat(32));
    await t.db.session.update({ where: { id: queued }, data: { createdAt: longAgo } });
    expect(await svc.handOver(new Set(['r-live']))).toBe(0);
    expect(jobs.retried).toEqual([]);
    expect((await t.db.session.findUniqueOrThrow({ where: { id: busy } })).status).toBe('provisioning');
    expect((await t.db.session.findUniqueOrThrow({ where: { id: queued } })).status).toBe('provisioning');
    const failed = await t.db.session.findUniqueOrThrow({ where: { id: lost } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/preparation was lost/);
    await t.db.session.update({ where: { id: queued }, data: { status: 'stopped' } });
  });

  it('counts the other replicas’ sessions in this replica’s capacity, and gives back those that ended anywhere', async () => {
    const capacity = createCapacity({ maxEnvironments: 10, totalMemBytes: 0 });
    const jobs = new RecordingQueue();
    const svc = new SessionService({ db: t.db, catalog, drivers: { docker: new CountingDriver() }, log, jobs, replicaId: 'r-me', capacity });
    const ids: Record<string, string> = {};
    for (const [name, data] of Object.entries({
      activeElsewhere: { status: 'active', replicaId: 'r-other' },
      preparedElsewhere: { replicaId: 'r-other' },
      waitingForAReplica: {},
    })) {
      ids[name] = (await svc.start('handed', name.padEnd(32, 'x'))).id;
      await t.db.session.update({ where: { id: ids[name] }, data });
    }
    await svc.syncCapacity();
    // Only this test's sessions (the earlier tests' are in the same database).
    const held = () =>
      capacity
        .snapshot()
        .running.map((r) => r.id)
        .filter((id) => Object.values(ids).includes(id));
    expect(held().sort()).toEqual([ids.activeElsewhere, ids.preparedElsewhere].sort());
    const used = capacity.used;
    await svc.syncCapacity(); // held once, however often it runs
    expect(capacity.used).toBe(used);
    // Stopped through the other replica: its ticket here goes at the next pass.
    await t.db.session.update({ where: { id: ids.activeElsewhere }, data: { status: 'stopped' } });
    await svc.syncCapacity();
    expect(held()).toEqual([ids.preparedElsewhere]);
  });

  it('a session whose job waits for a replica shows its place among those, on any replica', async () => {
    const jobs = new RecordingQueue();
    const one = service(jobs, new CountingDriver(), 'r-one');
    const two = service(jobs, new CountingDriver(), 'r-two');
    const first = (await one.start('handed', 'f'.repeat(32))).id;
    await new Promise((r) => setTimeout(r, 5)); // a later createdAt
    const second = (await one.start('handed', 's'.repeat(32))).id;
    const place = async (id: string, learner: string) => (await two.get(id, learner.repeat(32))).queue;
    const before = (await place(first, 'f'))!;
    expect(before.waitingFor).toBe('replica');
    expect(await place(second, 's')).toEqual({ waitingFor: 'replica', position: before.position + 1 });
    await jobs.handler!({ sessionId: first, startAt: 0 }, { id: 'job', attempt: 1, attempts: 6 }); // a replica takes the first job: claimed, prepared
    expect(await place(second, 's')).toEqual({ waitingFor: 'replica', position: before.position });
    expect(await place(first, 'f')).toBeUndefined();
  });
});
