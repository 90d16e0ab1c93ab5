/**
 * The shared warm pool (lib/environments/pool/shared.ts): two replicas, each with its own
 * SharedPool and capacity, on one real database (SQLite here, PostgreSQL in the postgres lane)
 * and one in-memory engine (FakeDriver). One pool for the platform, not one per replica: members
 * are made once, claimed through any replica and never twice, outlive the replica that made them,
 * and are counted in every replica's capacity.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { Capacity } from '../../lib/environments/capacity';
import { SharedPool, type SharedPoolDeps } from '../../lib/environments/pool/shared';
import { loadLabOrThrow } from '../../lib/labs/loader';
import type { Lab } from '../../lib/labs/schema';
import { databaseForThisFile } from '../support/database';
import { FakeDriver } from '../support/fake-driver';
import { dockerTrack } from '../support/sessions';

const t = databaseForThisFile('shared-pool');
let dir: string;
let lab: Lab;
let kindLab: Lab;

async function labAt(slug: string, track: string): Promise<Lab> {
  const root = path.join(dir, slug);
  fs.mkdirSync(path.join(root, '01-first'), { recursive: true });
  fs.writeFileSync(path.join(root, 'track.yml'), track);
  fs.writeFileSync(path.join(root, '01-first', 'assignment.md'), '---\nslug: first\ntitle: First\n---\nDo it.\n');
  return loadLabOrThrow(root);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-shared-pool-'));
  lab = await labAt('pooled', dockerTrack('pooled', 'Pooled'));
  const cluster = '  cluster:\n    nodes: [{role: control-plane}]\n';
  kindLab = await labAt(
    'clustered',
    `slug: clustered\ntitle: Clustered\nenvironment:\n  driver: kind\n${cluster}  hosts:\n    - name: workstation\n      image: labforge/base\n`,
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  await t.db.poolMember.deleteMany();
});

/** One replica: its pool and its capacity, on the shared database and engine. */
function replica(id: string, driver: FakeDriver, extra: Partial<SharedPoolDeps> & { size?: number; limit?: number; ttlMs?: number; labs?: Lab[] } = {}) {
  const { size = 2, limit = 10, ttlMs = 3_600_000, labs = [lab], ...deps } = extra;
  const capacity = new Capacity({ limit, costOf: () => 1 });
  const pool = new SharedPool(
    labs.map((l) => ({ lab: l, size, ttlMs })),
    {
      db: t.db,
      driver,
      capacity,
      log,
      prepare: async () => undefined,
      replicaId: id,
      liveReplicas: async () => new Set(['a', 'b']),
      backoff: { initialMs: 50, maxMs: 200 },
      ...deps,
    },
  );
  return { pool, capacity };
}

const rows = async (state?: string) => t.db.poolMember.findMany({ where: state ? { state } : {} });

describe('one warm pool for every replica', () => {
  it('is filled once, not per replica; a member made by one replica is claimed through the other, and refilled', async () => {
    const driver = new FakeDriver();
    const a = replica('a', driver);
    const b = replica('b', driver);
    await a.pool.refill();
    await b.pool.refill(); // the pool is full: B makes nothing
    expect((await rows('ready')).map((r) => r.replicaId)).toEqual(['a', 'a']);
    expect(driver.live.size).toBe(2);

    const first = await b.pool.claim('pooled', 'session-1');
    const second = await b.pool.claim('pooled', 'session-2');
    expect(first?.owner).toMatch(/^pool-/);
    expect(second?.owner).not.toBe(first?.owner);
    expect(await b.pool.claim('pooled', 'session-3')).toBeUndefined();
    // B counts its learners' sessions; A stops counting the members once it syncs.
    expect(b.capacity.position('session-1')).toBe(0);
    expect(a.capacity.used).toBe(2);
    await a.pool.syncCapacity();
    expect(a.capacity.used).toBe(0);
    // Claimed members stay kept (for the reconciler) until their sessions have stored them.
    expect(await a.pool.ownedBy()).toEqual(new Set([first!.owner, second!.owner]));

    await b.pool.refill();
    const stats = (await b.pool.stats()).labs[0];
    expect(stats).toMatchObject({ lab: 'pooled', size: 2, ready: 2, creating: 0, claimed: 2, misses: 1, created: 2 });
    expect(driver.live.size).toBe(4); // two with sessions, two ready
  });

  it('never hands one member to two sessions, whichever replicas claim at once', async () => {
    const driver = new FakeDriver();
    const a = replica('a', driver, { size: 3 });
    const b = replica('b', driver, { size: 3 });
    await a.pool.refill();
    const claims = await Promise.all([...Array(8).keys()].map((i) => (i % 2 ? a : b).pool.claim('pooled', `s-${i}`)));
    const owners = claims.flatMap((env) => (env ? [env.owner] : []));
    expect(owners).toHaveLength(3);
    expect(new Set(owners).size).toBe(3);
  });

  it('gives every one of a classroom starting at once a member while members are left (lost races try another)', async () => {
    const driver = new FakeDriver();
    driver.createMs = 1;
    const a = replica('a', driver, { size: 20, limit: 40 });
    const b = replica('b', driver, { size: 20, limit: 40 });
    await a.pool.refill();
    expect((await rows('ready')).length).toBe(20);
    const claims = await Promise.all([...Array(20).keys()].map((i) => (i % 2 ? a : b).pool.claim('pooled', `s-${i}`)));
    expect(new Set(claims.map((env) => env?.owner)).size).toBe(20);
    expect(claims.every(Boolean)).toBe(true);
  });

  it("forgets a gone replica's unfinished member, keeps its ready ones for the others, and drops claims past their grace", async () => {
    const driver = new FakeDriver();
    let now = Date.now();
    const a = replica('a', driver, { size: 1, now: () => now, claimGraceMs: 60_000 });
    // Replica `gone` died mid-creation; before that it made a ready member.
    driver.live.add('pool-half');
    await t.db.poolMember.create({ data: { owner: 'pool-half', lab: 'pooled', state: 'creating', replicaId: 'gone' } });
    const env = { driver: 'docker', owner: 'pool-made', lab: 'pooled', hosts: [], meta: {} };
    driver.live.add('pool-made');
    await t.db.poolMember.create({
      data: { owner: 'pool-made', lab: 'pooled', state: 'ready', replicaId: 'gone', environment: JSON.stringify(env), readyAt: new Date(now) },
    });

    await a.pool.refill();
    expect(driver.live.has('pool-half')).toBe(false);
    expect((await rows()).map((r) => r.owner)).toEqual(['pool-made']); // full with it: nothing new made
    expect((await a.pool.claim('pooled', 'session-1'))?.owner).toBe('pool-made');

    now += 61_000;
    await a.pool.refill();
    expect((await rows()).map((r) => r.state)).toEqual(['ready']); // the claim is forgotten, a new member made
    expect(driver.live.has('pool-made')).toBe(true); // the session's now
  });

  it('discards members past the TTL, unhealthy, beyond a lowered size or of a lab no longer pooled, and refills', async () => {
    const driver = new FakeDriver();
    let now = Date.now();
    const clock = () => now;
    await replica('a', driver, { size: 3, now: clock }).pool.refill();
    const [oldest, middle] = (await rows()).sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime());

    // Size lowered to 2: the oldest goes. A dead host: that member goes too; both are replaced.
    driver.live.delete(middle.owner);
    const smaller = replica('b', driver, { size: 2, now: clock, healthEveryMs: 0 });
    await smaller.pool.refill();
    const after = await rows('ready');
    expect(after).toHaveLength(2);
    expect(after.map((r) => r.owner)).not.toContain(oldest.owner);
    expect(after.map((r) => r.owner)).not.toContain(middle.owner);
    expect(driver.live.has(oldest.owner)).toBe(false);
    expect((await smaller.pool.stats()).labs[0].recycled).toBe(2);

    // An hour later every member is past its TTL: all are made again.
    now += 3_600_000;
    await smaller.pool.refill();
    const renewed = await rows('ready');
    expect(renewed.map((r) => r.owner).filter((o) => after.some((x) => x.owner === o))).toEqual([]);

    // The lab is no longer pooled: its members go.
    await replica('a', driver, { labs: [] }).pool.refill();
    expect(await rows()).toEqual([]);
    expect(driver.live.size).toBe(0);
  });

  it('a replica that stops aborts what it was making and leaves the ready members to the others', async () => {
    const driver = new FakeDriver();
    const a = replica('a', driver, { size: 2 });
    await replica('b', driver, { size: 1 }).pool.refill();
    driver.createMs = 2_000;
    const pass = a.pool.refill();
    await expect.poll(async () => (await rows('creating')).length).toBe(1);
    await a.pool.stop();
    await pass;
    expect((await rows()).map((r) => [r.replicaId, r.state])).toEqual([['b', 'ready']]);
    expect(a.capacity.used).toBe(0);
    expect(await a.pool.claim('pooled', 'late')).toBeUndefined(); // stopped: claims nothing more
  });

  it("counts the other replicas' members in its capacity, and gives ready members back while its learners queue", async () => {
    const driver = new FakeDriver();
    await replica('a', driver, { size: 2 }).pool.refill();
    const b = replica('b', driver, { size: 2, limit: 2 });
    await b.pool.syncCapacity();
    expect(b.capacity.used).toBe(2);
    b.pool.fill();
    // A learner waits for room on B: B gives back the oldest member, and the learner gets its place.
    const admitted = b.capacity.acquire({ id: 'learner', cost: 1 });
    await expect(admitted).resolves.toBeTypeOf('function');
    expect(await rows('ready')).toHaveLength(1);
    expect(driver.live.size).toBe(1);
    await b.pool.stop();
  });

  it('backs off after a failed member and says why; a kind lab is refused with the reason', async () => {
    const driver = new FakeDriver();
    driver.failNext = 1;
    const a = replica('a', driver, { size: 1, labs: [lab, kindLab] });
    await a.pool.refill();
    const [stats] = (await a.pool.stats()).labs;
    expect(stats).toMatchObject({ failures: 1, lastError: 'engine said no', ready: 0 });
    expect(await rows()).toEqual([]);
    expect(a.capacity.used).toBe(0);
    await new Promise((r) => setTimeout(r, 60)); // past the 50 ms backoff
    await a.pool.refill();
    expect((await a.pool.stats()).labs[0]).toMatchObject({ failures: 0, ready: 1 });
    expect(a.pool.refusal('clustered')).toMatch(/kubeconfig stays in the data directory/);
  });
});
