/**
 * The pure decision of host-limits.ts: which readings of a host's limit counters and disk use
 * become notices, which stop it, and what is stored for the next pass. The real counters and
 * disk are in test/reliability/host-limits.docker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { readHostLimits } from '../../lib/environments/docker/disk';
import type { Environment, EnvironmentDriver, HostLimitReading } from '../../lib/environments/driver';
import { DISK_REGROW, limitChanges, readLimits, watchLimits, type HostChange } from '../../lib/sessions/host-limits';
import { updateHost, type HostsRecord } from '../../lib/sessions/hosts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const limits = { memory: 512 * MiB, pids: 512, disk: 2 * GiB };

const reading = (r: Partial<HostLimitReading> = {}): HostLimitReading => ({
  host: 'workstation',
  running: true,
  limits,
  counters: { oom_kill: 0, pids_max: 0 },
  ...r,
});
const counted = (oom_kill: number, pids_max: number, more: Partial<HostLimitReading> = {}) => reading({ counters: { oom_kill, pids_max }, ...more });
const disk = (written: number, more: Partial<HostLimitReading> = {}) => reading({ disk: { written, enforced: false }, ...more });

/** Feeds readings one after the other, as watch passes would, storing what each returns. */
function passes(...readings: HostLimitReading[]) {
  let rec: HostsRecord = {};
  return readings.map((r) => {
    const c = limitChanges(rec.workstation, r);
    for (const u of c.updates) rec = updateHost(rec, r.host, u);
    return c;
  });
}
const kinds = (c: ReturnType<typeof limitChanges>) => c.notices.map((n) => n.kind);

describe('limit counters', () => {
  it('takes the first reading as the baseline, however high: a restarted server repeats nothing', () => {
    const [first] = passes(counted(7, 40));
    expect(first.notices).toEqual([]);
    expect(first.counters).toEqual({ oom_kill: 7, pids_max: 40 });
    expect(first.updates).toEqual([{ counters: { oom_kill: 7, pids_max: 40 } }]);
  });

  it('tells a rise of oom_kill and of pids max, with the numbers and the limits', () => {
    const [, oom, pids, both] = passes(counted(0, 0), counted(2, 0), counted(2, 1), counted(3, 9));
    expect(oom.notices).toEqual([{ kind: 'oom', message: 'the kernel ended 2 processes in workstation: it ran out of memory (512 MiB limit)' }]);
    expect(pids.notices).toEqual([{ kind: 'pids', message: 'workstation refused 1 new process: it reached its limit of 512 processes' }]);
    expect(both.notices.map((n) => n.message)).toEqual([
      'the kernel ended 1 process in workstation: it ran out of memory (512 MiB limit)',
      'workstation refused 8 new processes: it reached its limit of 512 processes',
    ]);
    expect(both.stop).toBe(false);
  });

  it('stores nothing when nothing changed, so a quiet pass writes no row', () => {
    const [, same] = passes(counted(1, 1), counted(1, 1));
    expect(same.updates).toEqual([]);
    expect(same.notices).toEqual([]);
  });

  it('never goes negative: a counter that went down restarted, and all of it is new', () => {
    const [, , down, after] = passes(counted(5, 5), counted(5, 5), counted(1, 0), counted(1, 0));
    expect(down.notices.map((n) => n.message)).toEqual(['the kernel ended 1 process in workstation: it ran out of memory (512 MiB limit)']);
    expect(down.counters).toMatchObject({ oom_kill: 1, pids_max: 0 });
    expect(after.notices).toEqual([]);
  });

  it('a stopped host resets the baseline to 0, so what happens after its restart is told', () => {
    const [, stopped, restarted] = passes(counted(4, 4), reading({ running: false, counters: undefined }), counted(4, 0));
    expect(stopped.notices).toEqual([]);
    expect(stopped.counters).toMatchObject({ oom_kill: 0, pids_max: 0 });
    expect(kinds(restarted)).toEqual(['oom']);
    expect(restarted.notices[0].message).toMatch(/ended 4 processes/);
  });

  it('an unreadable reading (no counters) keeps the baseline and tells nothing', () => {
    const [, unreadable, later] = passes(counted(1, 1), reading({ counters: undefined, error: 'at its limit' }), counted(1, 3));
    expect(unreadable.updates).toEqual([]);
    expect(later.notices.map((n) => n.kind)).toEqual(['pids']);
    expect(later.notices[0].message).toMatch(/refused 2 new processes/);
  });
});

describe('disk watchdog', () => {
  it('warns once near the limit, and again only after dropping well below it', () => {
    // 1.5 GiB is 75 %: between the two thresholds, so 1.65 GiB (82 %) right after is no news.
    const r = passes(disk(1 * GiB), disk(1.7 * GiB), disk(1.8 * GiB), disk(1.5 * GiB), disk(1.65 * GiB), disk(1.3 * GiB), disk(1.65 * GiB));
    expect(r.map(kinds)).toEqual([[], ['disk'], [], [], [], [], ['disk']]);
    expect(r[1].notices[0].message).toBe(
      'workstation has written 1.7 GiB of its 2 GiB disk: past 2 GiB it is stopped. Delete what you do not need (`du -xsh /* 2>/dev/null`).',
    );
    expect(r.every((c) => !c.stop)).toBe(true);
  });

  it('stops a running host past its limit and tells why, recording it as stopped', () => {
    const [over] = passes(disk(2.3 * GiB));
    expect(over.stop).toBe(true);
    expect(over.notices).toEqual([
      {
        kind: 'disk',
        message:
          "workstation wrote 2.3 GiB, more than its 2 GiB disk: it was stopped so the platform's disk stays safe. Restart it, then delete what you do not need (`du -xsh /* 2>/dev/null`); it is stopped again if it writes more while over the limit.",
      },
    ]);
    expect(over.updates[0]).toMatchObject({ state: 'stopped', notice: { kind: 'disk' } });
  });

  it('after a restart, lets the learner clean up; stops again only if it grows while over', () => {
    const w = 2.3 * GiB;
    const r = passes(
      disk(w), // stopped
      disk(w, { running: false, counters: undefined }), // stays stopped: nothing to do
      disk(w), // restarted by the learner, still over: time to delete
      disk(w - 100 * MiB), // deleting: the mark goes down
      disk(w - 100 * MiB + DISK_REGROW + 1), // writes again past the lowered mark: stopped
    );
    expect(r.map((c) => c.stop)).toEqual([true, false, false, false, true]);
    expect(r[3].counters.disk_stopped_at).toBe(w - 100 * MiB);
    expect(r.map(kinds)).toEqual([['disk'], [], [], [], ['disk']]);
  });

  it('forgets the stop once under the limit, and stops the next time it goes over', () => {
    const r = passes(disk(2.1 * GiB), disk(1 * GiB), disk(2.05 * GiB));
    expect(r.map((c) => c.stop)).toEqual([true, false, true]);
    expect(r[1].counters.disk_stopped_at).toBe(0);
  });

  it('leaves disks alone where the engine enforces the limit, or the use is unknown', () => {
    const [enforced] = passes(reading({ disk: { written: 2 * GiB, enforced: true } }));
    expect(enforced.stop).toBe(false);
    expect(enforced.notices).toEqual([]);
    const [unknown] = passes(reading({ disk: undefined }));
    expect(unknown.stop).toBe(false);
  });

  it('does not stop a host that is already stopped', () => {
    const [stopped] = passes(disk(3 * GiB, { running: false, counters: undefined }));
    expect(stopped.stop).toBe(false);
    expect(stopped.notices).toEqual([]);
  });
});

describe('readLimits', () => {
  const env = { driver: 'x', owner: 'o', lab: 'l', hosts: [], meta: {} };
  it('does not read an engine that cannot list as "every host stopped" (that would reset the baselines)', async () => {
    const docker = { listContainers: async () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')) } as unknown as Dockerode;
    const driver = { limits: (e: Environment) => readHostLimits(docker, e) } as unknown as EnvironmentDriver;
    expect(await readLimits(driver, env)).toEqual({
      readings: [],
      error: "reading the hosts' limits failed: the engine did not list the hosts' disk use: connect ENOENT /var/run/docker.sock",
    });
  });

  it('reads nothing from a driver without limits, and turns a failure into a message', async () => {
    expect(await readLimits({} as EnvironmentDriver, env)).toEqual({ readings: [] });
    const failing = { limits: async () => Promise.reject(new Error('engine down')) } as unknown as EnvironmentDriver;
    expect(await readLimits(failing, env)).toEqual({ readings: [], error: "reading the hosts' limits failed: engine down" });
  });
});

describe('watchLimits', () => {
  const env = { driver: 'x', owner: 'o', lab: 'l', hosts: [], meta: {} };
  const fake = (readings: HostLimitReading[], containHost?: (e: Environment, host: string) => Promise<void>) =>
    ({ name: 'fake', limits: async () => readings, ...(containHost ? { containHost } : {}) }) as unknown as EnvironmentDriver;

  it('stops a host past its disk, then records the stop; quiet hosts record nothing', async () => {
    const calls: string[] = [];
    const driver = fake([disk(3 * GiB), { ...disk(1 * GiB), host: 'server' }], async (_e, host) => void calls.push(`stop ${host}`));
    const rec: HostsRecord = { server: { state: 'running', notices: [], counters: { oom_kill: 0, pids_max: 0, disk_stopped_at: 0, disk_warned: 0 } } };
    const record = async (host: string, change: HostChange) => void calls.push(`record ${host} ${change.state ?? '-'} ${change.notice?.kind ?? '-'}`);
    expect(await watchLimits(driver, env, rec, record)).toBeUndefined();
    expect(calls).toEqual(['stop workstation', 'record workstation stopped disk']);
  });

  it('records nothing for a host it could not stop, and says why; unreadable counters are reported', async () => {
    const calls: string[] = [];
    const driver = fake([disk(3 * GiB), reading({ host: 'server', counters: undefined, error: 'at its process limit' })], async () => {
      throw new Error('engine busy');
    });
    const err = await watchLimits(driver, env, {}, async (host) => void calls.push(host));
    expect(err).toBe('server: at its process limit; workstation is past its disk limit but could not be stopped: engine busy');
    expect(calls, 'nothing for the unstopped host, nothing new for the unreadable one').toEqual([]);
    expect(await watchLimits(fake([disk(3 * GiB)]), env, {}, async (host) => void calls.push(host))).toMatch(/the fake driver cannot stop hosts/);
  });
});
