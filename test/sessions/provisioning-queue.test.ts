/**
 * Starts that wait for their turn to be prepared (SessionDeps.provisionLimiter): the session's view
 * carries the place in the queue and, once a preparation has finished, an estimate; a stopped
 * session leaves the queue without an environment ever being made. A real SQLite database, an
 * in-memory driver whose creations wait until the test lets them go.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Limiter } from '../../lib/base/limiter';
import { log } from '../../lib/base/log';
import { createDb, type Db } from '../../lib/db/client';
import type { Environment, EnvironmentSpec } from '../../lib/environments/driver';
import { LabCatalog } from '../../lib/labs/catalog';
import { SessionService } from '../../lib/sessions/service';
import { MemoryDriver } from '../support/memory-driver';
import { migratedDatabase } from '../support/database';

/** Creations wait for let(owner). */
class GatedDriver extends MemoryDriver {
  readonly created: string[] = [];
  private gates = new Map<string, () => void>();

  override async create(spec: EnvironmentSpec): Promise<Environment> {
    await new Promise<void>((r) => this.gates.set(spec.owner, r));
    this.created.push(spec.owner);
    return super.create(spec);
  }

  waiting(owner: string): boolean {
    return this.gates.has(owner);
  }

  let(owner: string): void {
    this.gates.get(owner)?.();
    this.gates.delete(owner);
  }
}

const LAB: Record<string, string> = {
  'queued/track.yml': 'slug: queued\ntitle: Queued lab\nenvironment:\n  driver: docker\n  hosts:\n    - name: workstation\n      image: labforge/base\n',
  'queued/01-first/assignment.md': '---\nslug: first\ntitle: First\n---\nDo it.\n',
};

let dir: string;
let db: Db;
let catalog: LabCatalog;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-provisioning-queue-'));
  for (const [rel, text] of Object.entries(LAB)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'labs', rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'labs', rel), text);
  }
  db = createDb(await migratedDatabase(dir));
  catalog = new LabCatalog(path.join(dir, 'labs'));
  await catalog.load();
  expect(catalog.get('queued')).toBeDefined();
});

afterAll(async () => {
  await db?.$disconnect();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a start waiting for its turn', () => {
  it('shows its place and an estimate in the view, moves up as others finish, and leaves the queue when stopped', async () => {
    const driver = new GatedDriver();
    let clock = 0;
    const provisionLimiter = new Limiter(1, 'its turn to be prepared', { now: () => clock });
    const svc = new SessionService({ db, catalog, drivers: { docker: driver }, log, provisionLimiter });
    const learner = (n: string) => n.repeat(32);
    const a = (await svc.start('queued', learner('a'))).id;
    await expect.poll(() => driver.waiting(a)).toBe(true);
    const b = (await svc.start('queued', learner('b'))).id;
    const c = (await svc.start('queued', learner('c'))).id;
    const view = (id: string, who: string) => svc.get(id, learner(who));

    await expect.poll(async () => (await view(c, 'c')).queue).toEqual({ waitingFor: 'turn', position: 2 });
    // No preparation has finished yet: a position, no estimate rather than a guess.
    expect((await view(b, 'b')).queue).toEqual({ waitingFor: 'turn', position: 1 });
    expect((await view(a, 'a')).queue).toBeUndefined();
    await expect
      .poll(async () => (await view(b, 'b')).progress.find((s) => s.step === 'Waiting for its turn to be prepared'))
      .toEqual({ step: 'Waiting for its turn to be prepared', status: 'running', detail: 'number 1 in the queue' });

    // a's preparation took 8 s: b starts; c is next, ready in b's 8 s plus its own 8 s.
    clock = 8_000;
    driver.let(a);
    await expect.poll(async () => (await view(a, 'a')).status).toBe('active');
    await expect.poll(() => driver.waiting(b)).toBe(true);
    expect((await view(b, 'b')).queue).toBeUndefined();
    expect((await view(c, 'c')).queue).toEqual({ waitingFor: 'turn', position: 1, estimateMs: 16_000 });
    clock = 11_000;
    expect((await view(c, 'c')).queue).toEqual({ waitingFor: 'turn', position: 1, estimateMs: 13_000 });
    const done = (await view(a, 'a')).progress.find((s) => s.step === 'Waiting for its turn to be prepared');
    expect(done).toBeUndefined(); // a never waited

    // c is stopped while it waits: it leaves the queue and nothing is ever created for it.
    await svc.stop(c, learner('c'));
    expect((await view(c, 'c')).status, (await view(c, 'c')).error).toBe('stopped');
    expect(provisionLimiter.stats()).toMatchObject({ running: 1, waiting: 0 });
    driver.let(b);
    await expect.poll(async () => (await view(b, 'b')).status).toBe('active');
    const waited = (await view(b, 'b')).progress.find((s) => s.step === 'Waiting for its turn to be prepared');
    expect(waited?.status).toBe('done');
    expect(driver.created).toEqual([a, b]);
    expect(provisionLimiter.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('a session view without a limiter has no queue', async () => {
    const driver = new MemoryDriver();
    const svc = new SessionService({ db, catalog, drivers: { docker: driver }, log });
    const id = (await svc.start('queued', 'd'.repeat(32))).id;
    await expect.poll(async () => (await svc.get(id, 'd'.repeat(32))).status).toBe('active');
    expect((await svc.get(id, 'd'.repeat(32))).queue).toBeUndefined();
  });
});
