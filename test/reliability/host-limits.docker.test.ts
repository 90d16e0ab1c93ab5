/**
 * A learner host at its memory, pids or disk limit is contained, the platform and other
 * sessions keep working, and the learner is told (issue #10, item 3). Real Docker and SQLite:
 * a host with 64 MiB, 64 processes and a 64 MiB disk, and a bystander session beside it.
 *
 * - Counters come from the kernel's cgroup files, read by the platform (its cgroupfs, or one
 *   toolbox exec); the learner, root in the host, can neither change nor forge them.
 * - A memory hog is killed by the kernel; the reading's oom_kill rises; the notice says so.
 * - A burst of processes meets the pids limit; pids max rises; the notice says so. While the
 *   host is full, an exec cannot start in it, but the platform's cgroupfs still reads.
 * - A host writing past `disk:` (the engine here cannot limit it) is stopped with a notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCounters } from '../../lib/environments/docker/cgroup-counters';
import { diskLimitSupported } from '../../lib/environments/docker/boundary';
import { readHostLimits } from '../../lib/environments/docker/disk';
import { SANDBOX, type Environment, type ExecResult, type HostLimitReading } from '../../lib/environments/driver';
import { limitChanges, watchLimits } from '../../lib/sessions/host-limits';
import { parseHosts, updateHost, type HostsRecord } from '../../lib/sessions/hosts';
import type { SessionService } from '../../lib/sessions/service';
import { oneHostTrack, sessionHarness, type SessionHarness } from '../support/sessions';

const MiB = 1024 ** 2;
const challenge = `---
slug: only
title: Anything
tabs:
  - { title: Shell, type: terminal, hostname: workstation }
---
Nothing to do.
`;
const LABS = {
  'limits-small/track.yml': `slug: limits-small
title: Small host
environment:
  driver: docker
  hosts:
    - name: workstation
      image: labforge/base
      resources: { memory: 64Mi, cpus: 0.5, pids: 64, disk: 64Mi }
`,
  'limits-small/01-only/assignment.md': challenge,
  'limits-bystander/track.yml': oneHostTrack('limits-bystander', 'Bystander'),
  'limits-bystander/01-only/assignment.md': challenge,
};

const learner = 'k'.repeat(32);
const other = 'm'.repeat(32);
let h: SessionHarness;
let svc: SessionService;
let small: { id: string; env: Environment };
let bystander: { id: string; env: Environment };
/** The small host's record, as the watch pass would keep it. */
let rec: HostsRecord = {};

async function start(slug: string, who: string) {
  const { id } = await svc.start(slug, who);
  await h.active(svc, id, who);
  const row = await h.db.session.findUniqueOrThrow({ where: { id } });
  return { id, env: JSON.parse(row.environment!) as Environment };
}

/** A learner command, as a terminal runs one: root, through lf-sandbox. */
const asLearner = (env: Environment, cmd: string, timeoutMs = 60_000): Promise<ExecResult> =>
  h.driver.exec(env, 'workstation', [SANDBOX, 'bash', '-c', cmd], { user: 'root', timeoutMs });

const reading = async (env = small.env): Promise<HostLimitReading> => (await h.driver.limits(env))[0];

/** One watch pass over the small host: read, decide, store (as SessionService.watchSession does). */
async function pass() {
  const r = await reading();
  const c = limitChanges(rec.workstation, r);
  for (const u of c.updates) rec = updateHost(rec, 'workstation', u);
  return { r, c };
}

/** The platform and the other session answer: an exec in the bystander's host and a session read. */
async function othersAnswer(): Promise<number> {
  const t = Date.now();
  const r = await h.driver.exec(bystander.env, 'workstation', ['/.labforge/bin/echo', 'here'], { timeoutMs: 10_000 });
  expect(r.stdout.trim()).toBe('here');
  expect((await svc.get(bystander.id, other)).status).toBe('active');
  return Date.now() - t;
}

beforeAll(async () => {
  h = await sessionHarness('host-limits', { files: LABS });
  svc = h.service();
  [small, bystander] = await Promise.all([start('limits-small', learner), start('limits-bystander', other)]);
  const first = await pass();
  expect(first.c.notices, 'the first reading is the baseline').toEqual([]);
  expect(first.r.counters).toEqual({ oom_kill: 0, pids_max: 0 });
}, 300_000);
afterAll(async () => h?.close());

describe('limit counters', () => {
  it('are read by the platform: both ways agree, and the learner can neither change nor forge them', async () => {
    const ref = small.env.hosts[0].ref;
    const viaExec = await readCounters(h.driver.docker, ref, null);
    expect(viaExec).toEqual({ counters: { oom_kill: 0, pids_max: 0 }, via: 'exec' });
    const viaDefault = await readCounters(h.driver.docker, ref);
    expect('counters' in viaDefault && viaDefault.counters).toEqual({ oom_kill: 0, pids_max: 0 });

    const cgroupV1 = (await asLearner(small.env, 'test -d /sys/fs/cgroup/memory')).exitCode === 0;
    const files = cgroupV1
      ? ['/sys/fs/cgroup/memory/memory.oom_control', '/sys/fs/cgroup/pids/pids.events']
      : ['/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/pids.events'];
    for (const f of files) {
      const w = await asLearner(small.env, `echo 'oom_kill 999' > ${f}`);
      expect(w.exitCode, `writing ${f}`).not.toBe(0);
      expect(w.stderr).toMatch(/Read-only file system|Permission denied|Invalid argument/);
    }
    const dir = cgroupV1 ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
    for (const cmd of [
      `mount -t tmpfs none ${dir}`,
      `umount -l ${dir}`,
      `mount -o remount,rw ${dir}`,
      `mkdir -p /tmp/f && mount --bind /tmp/f ${dir}`,
      `unshare -m true`,
    ]) {
      const m = await asLearner(small.env, cmd);
      expect(m.exitCode, cmd).not.toBe(0);
    }
    // The traps: on cgroup v1, /sys/fs/cgroup itself is a writable tmpfs, so a v2-shaped file can
    // be planted there; and a grep early on PATH. Neither is what the platform reads.
    const planted = await asLearner(
      small.env,
      `printf 'oom_kill 999\\nmax 999\\n' > /sys/fs/cgroup/memory.events 2>/dev/null; printf 'max 999\\n' > /sys/fs/cgroup/pids.events 2>/dev/null
       printf '#!/bin/sh\\necho "oom_kill 999"\\necho "max 999"\\n' > /usr/local/bin/grep && chmod +x /usr/local/bin/grep && cp /usr/local/bin/grep /usr/local/bin/cat
       grep x; cat /sys/fs/cgroup/memory.events 2>/dev/null || true`,
    );
    expect(planted.stdout, 'the plants are in place for the learner').toMatch(/oom_kill 999/);
    for (const r of [await readCounters(h.driver.docker, ref, null), await readCounters(h.driver.docker, ref)])
      expect('counters' in r && r.counters).toEqual({ oom_kill: 0, pids_max: 0 });
    expect((await pass()).c.notices).toEqual([]);
    await asLearner(small.env, 'rm -f /usr/local/bin/grep /usr/local/bin/cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/pids.events');
  });

  it('a memory hog is ended by the kernel, the learner is told, and the rest keeps working', async () => {
    const hog = asLearner(small.env, 'head -c 300m /dev/zero | tail > /dev/null; echo "tail: $?"');
    const others = await othersAnswer();
    const r = await hog;
    expect(r.stdout, 'the kernel killed tail (SIGKILL: 128 + 9)').toMatch(/tail: 137/);

    const { r: read, c } = await pass();
    expect(read.counters!.oom_kill).toBeGreaterThanOrEqual(1);
    expect(c.notices).toEqual([
      { kind: 'oom', message: expect.stringMatching(/^the kernel ended \d+ process(es)? in workstation: it ran out of memory \(64 MiB limit\)$/) },
    ]);
    expect(c.stop).toBe(false);
    // The exec way reads the same rise; and the host itself still answers.
    const viaExec = await readHostLimits(h.driver.docker, small.env, { platformCgroupRoot: null });
    expect(viaExec[0].counters).toEqual(read.counters);
    expect((await asLearner(small.env, 'echo alive')).stdout).toBe('alive\n');
    expect(others).toBeLessThan(10_000);
    expect((await pass()).c.notices, 'no second notice for the same kill').toEqual([]);
  });

  it('a burst of processes meets the pids limit, the learner is told, and the rest keeps working', async () => {
    // 100 sleepers against a limit of 64: forks fail (bash retries them) until the first ones end.
    const burst = asLearner(small.env, 'for i in $(seq 100); do sleep 8 </dev/null >/dev/null 2>&1 & done 2>/dev/null; wait', 120_000);
    const ref = small.env.hosts[0].ref;
    try {
      let full: Awaited<ReturnType<typeof readCounters>> | undefined;
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 200))) {
        full = await readCounters(h.driver.docker, ref);
        if ('counters' in full && full.counters.pids_max > 0) break;
      }
      expect(full && 'counters' in full && full.counters.pids_max, 'the limit was met').toBeGreaterThan(0);
      // While the host is full, an exec usually cannot start in it (runc's init needs to fork
      // there; it depends on a race inside runc), so the exec way may give an error value: the
      // platform's cgroupfs (where visible) reads regardless, and the next pass tells the rise.
      const viaExec = await readCounters(h.driver.docker, ref, null);
      if ('error' in viaExec) expect(viaExec.error).toMatch(/^cannot read the host's limit counters \(/);
      const others = await othersAnswer();
      expect(others).toBeLessThan(10_000);
    } finally {
      // Bash may give up on a fork it retried too long and end the loop: either way the burst is over.
      await burst;
    }
    const { r, c } = await pass();
    expect(r.counters!.pids_max).toBeGreaterThanOrEqual(1);
    expect(c.notices).toEqual([
      { kind: 'pids', message: expect.stringMatching(/^workstation refused \d+ new process(es)?: it reached its limit of 64 processes$/) },
    ]);
  }, 180_000);
});

describe('disk watchdog', () => {
  it('stops a host that wrote past its disk, says so, and lets the learner clean up', async () => {
    const enforced = await diskLimitSupported(h.driver.docker, await h.driver.images.ensure('labforge/base'));
    const dd = await asLearner(small.env, 'dd if=/dev/zero of=/root/big bs=1M count=100 2>&1; sync');
    expect(dd.stdout, 'dd ran').toMatch(/copied/);
    const r = await reading();
    // The watch pass's own step (what SessionService.watchSession calls), recording into `rec`.
    const problem = await watchLimits(h.driver, small.env, rec, async (host, change) => void (rec = updateHost(rec, host, change)));
    expect(problem).toBeUndefined();
    if (enforced) {
      // Where the engine limits the layer itself, dd meets "No space left" and nothing is stopped.
      expect(dd.stdout).toMatch(/No space left/);
      expect(r.disk?.enforced).toBe(true);
      expect((await reading()).running).toBe(true);
      return;
    }
    expect(r.disk).toEqual({ written: expect.any(Number), enforced: false });
    expect(r.disk!.written).toBeGreaterThanOrEqual(100 * MiB);
    expect((await reading()).running, 'stopped by the pass').toBe(false);
    expect(rec.workstation.state).toBe('stopped');
    expect(rec.workstation.notices.at(-1)).toMatchObject({
      kind: 'disk',
      message: expect.stringMatching(
        /^workstation wrote 1\d\d MiB, more than its 64 MiB disk: it was stopped so the platform's disk stays safe\. Restart it, then delete/,
      ),
    });
    expect(await othersAnswer()).toBeLessThan(10_000);
    await h.driver.containHost(small.env, 'workstation'); // already stopped: fine

    // The learner restarts it and cleans up: not stopped again meanwhile; under the limit, forgotten.
    await h.driver.restartHost(small.env, 'workstation');
    rec = updateHost(rec, 'workstation', { state: 'running' });
    const back = await pass();
    expect(back.c.stop).toBe(false);
    expect(back.c.notices, 'counters restarted at 0: no notice').toEqual([]);
    const rm = await asLearner(small.env, 'rm -f /root/big');
    const clean = await pass();
    expect(clean.r.running, JSON.stringify(rm)).toBe(true);
    expect(clean.c.stop).toBe(false);
    expect(clean.c.counters.disk_stopped_at).toBe(0);
    // The record survives its trip through the database as it is; the disk notice is the newest.
    expect(parseHosts(JSON.stringify(rec))).toEqual(rec);
    expect(rec.workstation.notices.at(-1)?.kind).toBe('disk');
  }, 120_000);
});
