/**
 * Warm pools. The main suite runs the real Docker driver and the real track
 * setup (Lifecycle) on a copy of the `good` fixture lab; capacity, retry and
 * eviction behaviour use a small in-memory driver, where timing is controllable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capacity } from '../../lib/environments/capacity';
import { DockerDriver } from '../../lib/environments/docker/driver';
import { LABELS, type Environment, type EnvironmentDriver } from '../../lib/environments/driver';
import { poolRefusal, trackSetupVariableUses } from '../../lib/environments/pool/eligibility';
import { POOL_OWNER_PREFIX } from '../../lib/environments/pool/members';
import { WarmPool, type PoolDeps } from '../../lib/environments/pool/pool';
import { loadLabOrThrow } from '../../lib/labs/loader';
import type { Lab } from '../../lib/labs/schema';
import { log } from '../../lib/base/log';
import { Lifecycle, setupFailure } from '../../lib/sessions/lifecycle';
import { sleep, waitFor } from '../support/wait';
import { requireEngine } from '../support/docker';
import { FakeDriver } from '../support/fake-driver';

const FIXTURE = path.resolve(__dirname, '../fixtures/labs/good');
let dir: string;
let lab: Lab;

const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) => waitFor(what, cond, ms, 20);

/** A copy of the fixture lab with some files replaced. */
async function labCopy(name: string, files: Record<string, string> = {}): Promise<Lab> {
  const root = path.join(dir, name);
  fs.cpSync(FIXTURE, root, { recursive: true });
  for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(root, rel), text, { mode: 0o755 });
  return loadLabOrThrow(root);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-pool-'));
  lab = await labCopy('good');
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('which labs may be pooled', () => {
  it('accepts a lab whose track setup does not use its variables', () => {
    expect(trackSetupVariableUses(lab)).toEqual([]);
    expect(poolRefusal(lab)).toBeUndefined();
  });

  it('refuses a lab whose track setup reads a declared variable, and says where', async () => {
    const track = fs.readFileSync(path.join(FIXTURE, 'track.yml'), 'utf8').replace('scripts: [', 'scripts: [track/setup-server, ');
    const uses = await labCopy('uses-var', {
      'track.yml': track,
      'track_scripts/setup-server': '#!/bin/bash\n# the word is $SECRET_WORD (comment: ignored)\necho "${SECRET_WORD}" > /srv/word\n',
    });
    expect(trackSetupVariableUses(uses)).toEqual([{ variable: 'SECRET_WORD', file: 'track_scripts/setup-server', line: 3 }]);
    expect(poolRefusal(uses)).toMatch(/\$SECRET_WORD in track_scripts\/setup-server:3/);
    const pool = new WarmPool([{ lab: uses, size: 1, ttlMs: 60_000 }], fakeDeps(new FakeDriver(), new Capacity({ limit: 5 })));
    expect((await pool.stats()).labs).toEqual([]);
    expect(pool.refusal('good-docker')).toMatch(/session variables/);
    expect(await pool.claim('good-docker')).toBeUndefined();
  });

  it('refuses a bad config without throwing', () => {
    const pool = new WarmPool([{ lab, size: -1, ttlMs: 0 }], fakeDeps(new FakeDriver(), new Capacity({ limit: 5 })));
    expect(pool.refusal('good-docker')).toMatch(/invalid pool config: size .*ttlMs/);
  });
});

function fakeDeps(driver: EnvironmentDriver, capacity: Capacity, extra: Partial<PoolDeps> = {}): PoolDeps {
  return { driver, capacity, prepare: async () => undefined, log, recycleEveryMs: 0, backoff: { initialMs: 50, maxMs: 200 }, ...extra };
}

describe('pool and capacity (in-memory driver)', () => {
  it('never holds more than the capacity, counting members being created', async () => {
    const driver = new FakeDriver();
    const capacity = new Capacity({ limit: 3, costOf: () => 1 });
    const other = await labCopy('other', {});
    (other.track as { slug: string }).slug = 'other-lab';
    const pool = new WarmPool(
      [
        { lab, size: 4, ttlMs: 60_000 },
        { lab: other, size: 4, ttlMs: 60_000 },
      ],
      fakeDeps(driver, capacity),
    );
    let over = 0;
    const off = capacity.onChange(() => (over = Math.max(over, capacity.used)));
    pool.fill();
    await until('pool to take all capacity', async () => (await pool.stats()).labs.reduce((n, l) => n + l.ready, 0) === 3);
    await sleep(200);
    expect((await pool.stats()).labs.reduce((n, l) => n + l.ready + l.creating, 0)).toBe(3);
    expect(driver.live.size).toBe(3);
    expect(over).toBe(3);
    expect(driver.maxConcurrent).toBeLessThanOrEqual(2); // one creation at a time per lab
    off();
    await pool.stop();
    expect(driver.live.size).toBe(0);
    expect(capacity.used).toBe(0);
  });

  it('gives idle members back while a learner waits, and refills once the queue is empty', async () => {
    const driver = new FakeDriver();
    const capacity = new Capacity({ limit: 2, costOf: () => 1 });
    const pool = new WarmPool([{ lab, size: 2, ttlMs: 60_000 }], fakeDeps(driver, capacity));
    pool.fill();
    await pool.untilReady('good-docker', 2, 5_000);
    // Without eviction these would wait forever: give up after 5 s.
    const held = await capacity.acquire({ id: 'learner-a', cost: 1 }, AbortSignal.timeout(5_000));
    expect((await pool.stats()).labs[0].ready).toBe(1);
    const releaseB = await capacity.acquire({ id: 'learner-b', cost: 1 }, AbortSignal.timeout(5_000));
    expect((await pool.stats()).labs[0].ready).toBe(0);
    expect((await pool.stats()).labs[0].recycled).toBe(2);
    held();
    releaseB();
    await pool.untilReady('good-docker', 2, 5_000);
    await pool.stop();
  });

  it('claim transfers the capacity ticket to the holder and triggers a refill', async () => {
    const driver = new FakeDriver();
    const capacity = new Capacity({ limit: 5, costOf: () => 1 });
    const pool = new WarmPool([{ lab, size: 1, ttlMs: 60_000 }], fakeDeps(driver, capacity));
    pool.fill();
    await pool.untilReady('good-docker', 1, 5_000);
    const env = (await pool.claim('good-docker', 'session-1'))!;
    expect(env.owner.startsWith(POOL_OWNER_PREFIX)).toBe(true);
    expect(capacity.position('session-1')).toBe(0);
    expect(capacity.position(env.owner)).toBeUndefined();
    expect((await pool.ownedBy()).has(env.owner)).toBe(true); // grace until the session stored it
    await pool.untilReady('good-docker', 1, 5_000);
    expect(capacity.used).toBe(2);
    await pool.stop();
    expect(driver.live.has(env.owner)).toBe(true); // claimed: the session's, not the pool's
    expect(capacity.used).toBe(1);
  });

  it('logs and retries failed fills with backoff, and never throws', async () => {
    const driver = new FakeDriver();
    driver.failNext = 2;
    const capacity = new Capacity({ limit: 5, costOf: () => 1 });
    let prepared = 0;
    const pool = new WarmPool([{ lab, size: 1, ttlMs: 60_000 }], fakeDeps(driver, capacity, { prepare: async () => void prepared++ }));
    const started = Date.now();
    pool.fill();
    await until('a failure', async () => (await pool.stats()).labs[0].failures === 1, 5_000);
    expect((await pool.stats()).labs[0].lastError).toBe('engine said no');
    expect(capacity.used).toBe(0); // a failed member gives its capacity back
    await pool.untilReady('good-docker', 1, 5_000);
    // 50 ms, then 100 ms of backoff between the three attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect((await pool.stats()).labs[0]).toMatchObject({ failures: 0, created: 1, ready: 1 });
    expect(prepared).toBe(1);
    await pool.stop();
  });

  it('a failing track setup destroys the member and retries', async () => {
    const driver = new FakeDriver();
    const capacity = new Capacity({ limit: 5, costOf: () => 1 });
    let calls = 0;
    const prepare = async () => {
      if (++calls === 1) throw new Error('track setup failed: setup-server exited 1');
    };
    const pool = new WarmPool([{ lab, size: 1, ttlMs: 60_000 }], fakeDeps(driver, capacity, { prepare }));
    pool.fill();
    await pool.untilReady('good-docker', 1, 5_000);
    expect(calls).toBe(2);
    expect(driver.live.size).toBe(1);
    await pool.stop();
    expect(driver.live.size).toBe(0);
  });
});

// ---- the real thing ----------------------------------------------------------

describe('warm pool with the Docker driver', () => {
  const instance = `pooltest-${process.pid}`;
  const docker = new Dockerode();
  const driver = new DockerDriver({ docker, instance });
  const capacity = new Capacity({ limit: 16 * 1024 });
  let clock = 1_000_000;
  let pool: WarmPool;
  const claimed: Environment[] = [];
  const TTL = 10 * 60_000;

  const prepare = async (env: Environment, l: Lab) => {
    const r = await new Lifecycle(driver, l, env, {}).trackSetup();
    if (!r.ok) throw new Error(setupFailure('track setup', r));
  };
  const labelled = async () => {
    const filters = { label: [`${LABELS.instance}=${instance}`] };
    const [c, n] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
    return [...c.map((x) => x.Labels[LABELS.session]), ...n.map((x) => x.Labels?.[LABELS.session] ?? '')];
  };

  beforeAll(async () => {
    await requireEngine(docker);
    await driver.images.ensure('labforge/base', () => undefined);
    pool = new WarmPool([{ lab, size: 2, ttlMs: TTL }], { driver, capacity, prepare, log, now: () => clock, recycleEveryMs: 0 });
  }, 900_000);

  afterAll(async () => {
    await pool?.stop();
    for (const env of claimed) await driver.destroy(env).catch(() => undefined);
    for (const owner of new Set(await labelled())) await driver.destroyOwner(owner);
  });

  it('fills to its size with environments whose track setup ran', async () => {
    pool.fill();
    await pool.untilReady('good-docker', 2, 120_000);
    const owners = await pool.ownedBy();
    expect(owners.size).toBe(2);
    for (const o of owners) expect(o).toMatch(/^pool-[0-9a-f]{12}$/);
    // 2 hosts + 1 network per member, labelled with the pool owner.
    const found = await labelled();
    expect(found.length).toBe(6);
    expect(new Set(found)).toEqual(owners);
    expect(capacity.used).toBe(2 * 768);
  }, 180_000);

  it('claims in well under 50 ms an environment that is ready to use', async () => {
    const t = performance.now();
    const env = await pool.claim('good-docker', 'session-pooltest');
    const ms = performance.now() - t;
    expect(env).toBeDefined();
    claimed.push(env!);
    expect(ms).toBeLessThan(50);
    const ready = await driver.exec(env!, 'workstation', ['cat', '/tmp/track-ready']);
    expect(ready.stdout.trim()).toBe('ready');
    const www = await driver.exec(env!, 'server', ['test', '-d', '/srv/www']);
    expect(www.exitCode).toBe(0);
    const hello = await driver.exec(env!, 'workstation', ['cat', '/root/hello.txt']);
    expect(hello.exitCode).toBe(0);
    expect(capacity.position('session-pooltest')).toBe(0);
    expect((await pool.stats()).labs[0]).toMatchObject({ claimed: 1 });
  });

  it('refills in the background after a claim', async () => {
    await pool.untilReady('good-docker', 2, 120_000);
    expect((await pool.stats()).labs[0]).toMatchObject({ ready: 2, created: 3 });
  }, 180_000);

  it('recycles members older than the TTL and replaces them', async () => {
    const before = [...(await pool.ownedBy())].filter((o) => o !== claimed[0].owner);
    clock += TTL - 1;
    expect((await pool.recycle()).recycled).toEqual([]);
    clock += 1;
    const { recycled } = await pool.recycle();
    expect(recycled.sort()).toEqual(before.sort());
    const left = await labelled();
    for (const o of before) expect(left).not.toContain(o);
    await pool.untilReady('good-docker', 2, 180_000);
    const after = [...(await pool.ownedBy())];
    for (const o of before) expect(after).not.toContain(o);
  }, 240_000);

  it('recycles a member whose hosts died', async () => {
    const victim = [...(await pool.ownedBy())].find((o) => o !== claimed[0].owner)!;
    const [c] = await docker.listContainers({ filters: { label: [`${LABELS.session}=${victim}`] } });
    await docker.getContainer(c.Id).kill();
    const { recycled } = await pool.recycle();
    expect(recycled).toEqual([victim]);
  }, 60_000);

  it('stop() destroys every unclaimed member and leaves only the claimed one', async () => {
    await pool.stop();
    const left = new Set(await labelled());
    expect(left).toEqual(new Set([claimed[0].owner]));
    await driver.destroy(claimed[0]);
    capacity.release('session-pooltest');
    expect(await labelled()).toEqual([]);
    expect(capacity.used).toBe(0);
    expect(await pool.claim('good-docker')).toBeUndefined();
  }, 120_000);
});
