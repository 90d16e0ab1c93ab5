/**
 * Warm-pool fills take their turn in the server's provisioning limit behind learners
 * (MemberDeps.limiter, background priority): a refill waits while a learner's start waits,
 * and a stopped pool takes its queued fill out of the line. In-memory driver, no Docker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Limiter, PRIORITY } from '../../lib/base/limiter';
import { log } from '../../lib/base/log';
import { Capacity } from '../../lib/environments/capacity';
import { WarmPool } from '../../lib/environments/pool/pool';
import { loadLabOrThrow } from '../../lib/labs/loader';
import type { Lab } from '../../lib/labs/schema';
import { MemoryDriver } from '../support/memory-driver';

let dir: string;
let lab: Lab;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-pool-priority-'));
  fs.mkdirSync(path.join(dir, '01-first'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'track.yml'),
    'slug: pooled\ntitle: Pooled\nenvironment:\n  driver: docker\n  hosts:\n    - name: workstation\n      image: labforge/base\n',
  );
  fs.writeFileSync(path.join(dir, '01-first', 'assignment.md'), '---\nslug: first\ntitle: First\n---\nDo it.\n');
  lab = await loadLabOrThrow(dir);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A job holding the limiter's only slot until the returned function is called. */
function hold(limiter: Limiter, id: string, priority: number = PRIORITY.learner): () => void {
  let done!: () => void;
  void limiter.run(() => new Promise<void>((r) => (done = r)), { id, priority });
  return () => done();
}

/** A pool of one member of `lab` whose fills take their turn in `limiter`. */
function poolIn(limiter: Limiter): WarmPool {
  return new WarmPool([{ lab, size: 1, ttlMs: 3_600_000 }], {
    driver: { docker: new MemoryDriver() },
    capacity: new Capacity({ limit: 100 }),
    limiter,
    log,
    prepare: async () => {},
    recycleEveryMs: 0,
  });
}

describe('pool fills in the provisioning limit', () => {
  it('wait behind learners, and run once no learner waits', async () => {
    const limiter = new Limiter(1);
    const releaseRunning = hold(limiter, 'learner-running');
    const pool = poolIn(limiter);
    pool.fill();
    await expect.poll(() => limiter.stats().waiting).toBe(1);
    // A learner's start arrives after the fill and still goes first.
    const releaseLearner = hold(limiter, 'learner-waiting');
    expect(limiter.position('learner-waiting')).toBe(1);
    expect((await pool.stats()).labs[0]).toMatchObject({ ready: 0, creating: 1 });
    releaseRunning();
    await expect.poll(() => limiter.position('learner-waiting')).toBe(0);
    expect((await pool.stats()).labs[0].ready).toBe(0);
    releaseLearner();
    await expect.poll(async () => (await pool.stats()).labs[0].ready).toBe(1);
    await pool.stop();
  });

  it('a stopped pool takes its waiting fill out of the line', async () => {
    const limiter = new Limiter(1);
    const release = hold(limiter, 'learner-running');
    const pool = poolIn(limiter);
    pool.fill();
    await expect.poll(() => limiter.stats().waiting).toBe(1);
    await pool.stop();
    expect(limiter.stats().waiting).toBe(0);
    release();
  });
});
