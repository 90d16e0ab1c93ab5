/**
 * Telling the learner when a host hit one of its limits (issue #10: a host at its memory, pids or
 * disk limit is contained, and the learner is told what happened). Memory and pids are contained
 * by the kernel (cgroup limits); the platform reads the kernel's counters and turns a rise into a
 * notice. Disk, where the engine cannot limit it, is contained here: a host past its `disk:` is
 * stopped. The decision is pure (`limitChanges`), so the watch pass only reads and applies.
 *
 * Counters are kept per host in HostStatus.counters (hosts.ts), stored with the session:
 * - `oom_kill`, `pids_max`: the kernel's counters at the last reading. The first reading only sets
 *   them; a later one tells the rise. A counter that went down means the host restarted in between
 *   (they count from its start): all of the new value is new. A stopped host sets them to 0, as
 *   its next start does.
 * - `disk_warned`: 1 once the ~80 % warning was given, back to 0 below 70 % (no flapping).
 * - `disk_stopped_at`: bytes written when it was last stopped for disk (0: not over). After the
 *   learner restarts it to clean up, it is stopped again only if it writes DISK_REGROW more while
 *   over the limit (what they delete lowers the mark): stopping at once would leave them no time to
 *   delete anything.
 */
import { formatBytes, type Environment, type EnvironmentDriver, type HostLimitReading } from '../environments/driver';
import type { HostNotice, HostsRecord, HostStatus, updateHost } from './hosts';

export const DISK_WARN = 0.8;
export const DISK_WARN_CLEAR = 0.7;
export const DISK_REGROW = 16 * 1024 * 1024;

type Notice = Omit<HostNotice, 'at'>;
export type HostChange = Parameters<typeof updateHost>[2];

export interface LimitChanges {
  /** The host's counters after this reading (all of them, to store as they are). */
  counters: Record<string, number>;
  /** For the learner, oldest first. */
  notices: Notice[];
  /** Stop the host now (driver.containHost): it is past a disk limit the engine does not enforce. */
  stop: boolean;
  /** The same as changes for SessionRepository.changeHost, in order; empty when nothing changed (no write). */
  updates: HostChange[];
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const DU = '`du -xsh /* 2>/dev/null`';

export const limitMessages = {
  oom: (host: string, n: number, memory: number) =>
    `the kernel ended ${plural(n, 'process', 'processes')} in ${host}: it ran out of memory (${formatBytes(memory)} limit)`,
  pids: (host: string, n: number, pids: number) => `${host} refused ${plural(n, 'new process', 'new processes')}: it reached its limit of ${pids} processes`,
  diskStop: (host: string, written: number, disk: number) =>
    `${host} wrote ${formatBytes(written)}, more than its ${formatBytes(disk)} disk: it was stopped so the platform's disk stays safe. ` +
    `Restart it, then delete what you do not need (${DU}); it is stopped again if it writes more while over the limit.`,
  diskWarn: (host: string, written: number, disk: number) =>
    `${host} has written ${formatBytes(written)} of its ${formatBytes(disk)} disk: past ${formatBytes(disk)} it is stopped. Delete what you do not need (${DU}).`,
};

/** How much a kernel counter rose since `was` (undefined: no baseline yet, nothing to tell). */
function rise(was: number | undefined, now: number): number {
  if (was === undefined) return 0;
  return now >= was ? now - was : now;
}

/** What one reading changes for one host: counters to store, notices to give, whether to stop it. */
export function limitChanges(previous: HostStatus | undefined, reading: HostLimitReading): LimitChanges {
  const before = previous?.counters ?? {};
  const counters: Record<string, number> = { ...before };
  const notices: Notice[] = [];
  let stop = false;
  const { host, limits } = reading;

  if (!reading.running) {
    counters.oom_kill = 0;
    counters.pids_max = 0;
  } else if (reading.counters) {
    const oom = rise(before.oom_kill, reading.counters.oom_kill);
    if (oom > 0) notices.push({ kind: 'oom', message: limitMessages.oom(host, oom, limits.memory) });
    const pids = rise(before.pids_max, reading.counters.pids_max);
    if (pids > 0) notices.push({ kind: 'pids', message: limitMessages.pids(host, pids, limits.pids) });
    counters.oom_kill = reading.counters.oom_kill;
    counters.pids_max = reading.counters.pids_max;
  }

  const disk = reading.disk;
  // Where the engine enforces the limit, writes past it fail inside the host: nothing to watch.
  if (disk && !disk.enforced) {
    const mark = before.disk_stopped_at ?? 0;
    if (disk.written > limits.disk) {
      if (reading.running && (!mark || disk.written > mark + DISK_REGROW)) {
        stop = true;
        counters.disk_stopped_at = disk.written;
        notices.push({ kind: 'disk', message: limitMessages.diskStop(host, disk.written, limits.disk) });
      } else if (mark) counters.disk_stopped_at = Math.min(mark, disk.written);
      counters.disk_warned = 1;
    } else {
      counters.disk_stopped_at = 0;
      if (disk.written >= limits.disk * DISK_WARN && !before.disk_warned) {
        counters.disk_warned = 1;
        notices.push({ kind: 'disk', message: limitMessages.diskWarn(host, disk.written, limits.disk) });
      } else if (disk.written < limits.disk * DISK_WARN_CLEAR) counters.disk_warned = 0;
    }
  }

  const changed = notices.length > 0 || Object.keys(counters).some((k) => counters[k] !== before[k]);
  const updates: HostChange[] = !changed
    ? []
    : notices.length
      ? notices.map((notice, i) => (i === 0 ? { notice, counters, ...(stop ? { state: 'stopped' as const } : {}) } : { notice }))
      : [{ counters }];
  return { counters, notices, stop, updates };
}

/**
 * The driver's readings for `env`: none when the driver cannot read limits (Kind), and a failure
 * as a value, for the caller to log: a pass that cannot read limits changes nothing.
 */
export async function readLimits(driver: EnvironmentDriver, env: Environment): Promise<{ readings: HostLimitReading[]; error?: string }> {
  if (!driver.limits) return { readings: [] };
  try {
    return { readings: await driver.limits(env) };
  } catch (err) {
    return { readings: [], error: `reading the hosts' limits failed: ${(err as Error).message}` };
  }
}

/**
 * One watch pass over a session's limits: reads them, decides each host against its stored record
 * (`rec`, the session's `hosts`), stops hosts past their disk (driver.containHost), and hands every
 * change to `record` (SessionRepository.changeHost, under the session's lock). A host that could not be
 * stopped records nothing, so the next pass tries again. Returns why something could not be read
 * or done (for the log), if so.
 */
export async function watchLimits(
  driver: EnvironmentDriver,
  env: Environment,
  rec: HostsRecord,
  record: (host: string, change: HostChange) => Promise<void>,
): Promise<string | undefined> {
  const { readings, error } = await readLimits(driver, env);
  const problems = error ? [error] : readings.flatMap((r) => (r.error ? [`${r.host}: ${r.error}`] : []));
  for (const r of readings) {
    const c = limitChanges(rec[r.host], r);
    if (c.stop) {
      try {
        if (!driver.containHost) throw new Error(`the ${driver.name} driver cannot stop hosts`);
        await driver.containHost(env, r.host);
      } catch (err) {
        problems.push(`${r.host} is past its disk limit but could not be stopped: ${(err as Error).message}`);
        continue;
      }
    }
    for (const u of c.updates) await record(r.host, u);
  }
  return problems.length ? problems.join('; ') : undefined;
}
