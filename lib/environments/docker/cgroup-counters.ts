/**
 * A host's limit counters, read where the learner (root in the host) cannot forge them: the
 * kernel's own cgroup files. `oom_kill` counts processes the kernel killed at the memory limit,
 * `max` in pids.events the forks it refused at the pids limit; both count from the container's
 * start.
 *
 * Two ways, the first that works:
 * 1. The platform machine's cgroupfs, when the container's cgroup directory is there (the server
 *    runs on the engine's machine, not in a container of its own): a file read, no process in the
 *    host, so it also works while the host is at its pids limit (an exec cannot start then). A
 *    directory named by the container's full id is made by the engine alone.
 * 2. One exec in the host of the toolbox's grep (a toolbox program: the platform's capabilities,
 *    never the learner's PATH) over the host's own cgroup files. Those are mounted read-only
 *    (cgroup v1: /sys/fs/cgroup/<controller>; v2: /sys/fs/cgroup with a private cgroup
 *    namespace); without CAP_SYS_ADMIN the learner can neither write, remount nor cover them.
 *    The path is chosen by the engine's cgroup version: on v1, /sys/fs/cgroup itself is a
 *    writable tmpfs in which the learner can create a fake `memory.events`, so v2 paths are
 *    never read there (test/reliability/host-limits.docker.test.ts forges one).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { TOOLBOX_BIN } from '../driver';
import { runExec } from './exec';

export interface LimitCounters {
  oom_kill: number;
  pids_max: number;
}
export type CounterRead = { counters: LimitCounters; via: 'cgroupfs' | 'exec' } | { error: string };

/** What `docker info` says about cgroups; asked once per engine client. */
interface CgroupInfo {
  version: '1' | '2';
  driver: string;
}
const infos = new WeakMap<Dockerode, Promise<CgroupInfo>>();
function cgroupInfo(docker: Dockerode): Promise<CgroupInfo> {
  let p = infos.get(docker);
  if (!p) {
    p = docker
      .info()
      .then((i: { CgroupVersion?: string; CgroupDriver?: string }) => ({ version: i.CgroupVersion === '2' ? '2' : '1', driver: i.CgroupDriver ?? 'cgroupfs' }));
    p.catch(() => infos.delete(docker));
    infos.set(docker, p);
  }
  return p;
}

/** The two files per cgroup version, relative to a container's cgroup root(s). */
const FILES = {
  '1': { memory: 'memory/memory.oom_control', pids: 'pids/pids.events' },
  '2': { memory: 'memory.events', pids: 'pids.events' },
} as const;

/** Where the engine puts a container's cgroup below a controller's root, by cgroup driver. */
const cgroupDirs = (id: string) => [`docker/${id}`, `system.slice/docker-${id}.scope`];

/** `key N` lines of a cgroup events file; NaN-free, unknown keys ignored. */
export function eventCount(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Kernel files are a few hundred bytes; anything longer is not what we asked for. */
const MAX_TEXT = 4096;

function parse(memory: string, pids: string): LimitCounters | undefined {
  const oom_kill = eventCount(memory, 'oom_kill');
  const pids_max = eventCount(pids, 'max');
  return oom_kill === undefined || pids_max === undefined ? undefined : { oom_kill, pids_max };
}

async function fromPlatform(root: string, id: string, info: CgroupInfo): Promise<LimitCounters | undefined> {
  const files = FILES[info.version];
  for (const dir of cgroupDirs(id)) {
    const at = (f: string) => (info.version === '1' ? path.join(root, path.dirname(f), dir, path.basename(f)) : path.join(root, dir, f));
    try {
      const [memory, pids] = await Promise.all([fs.readFile(at(files.memory), 'utf8'), fs.readFile(at(files.pids), 'utf8')]);
      const c = parse(memory.slice(0, MAX_TEXT), pids.slice(0, MAX_TEXT));
      if (c) return c;
    } catch {
      // Not here: the other cgroup driver's layout, or the server does not see the engine's cgroups.
    }
  }
  return undefined;
}

async function fromHost(docker: Dockerode, id: string, info: CgroupInfo): Promise<CounterRead> {
  const files = FILES[info.version];
  const memory = `/sys/fs/cgroup/${files.memory}`;
  const pids = `/sys/fs/cgroup/${files.pids}`;
  // grep -H prefixes each line with its file, so one process reads both and they stay apart
  // (v2's memory.events has a `max` line too).
  const r = await runExec(docker, docker.getContainer(id), [`${TOOLBOX_BIN}/grep`, '-H', '', memory, pids], { user: '0', timeoutMs: 5000 });
  if (r.notStarted || r.timedOut) {
    const why = r.timedOut ? 'it did not answer within 5 s' : r.stderr.trim().slice(0, 200);
    return { error: `cannot read the host's limit counters (${why}); at its process limit, nothing new starts in it` };
  }
  const lines = r.stdout.slice(0, MAX_TEXT).split('\n');
  const of = (file: string) =>
    lines
      .filter((l) => l.startsWith(`${file}:`))
      .map((l) => l.slice(file.length + 1))
      .join('\n');
  const c = parse(of(memory), of(pids));
  return c
    ? { counters: c, via: 'exec' }
    : { error: `the host's cgroup files (${memory}, ${pids}) did not hold the counters: ${r.stderr.trim().slice(0, 200) || 'no such lines'}` };
}

/**
 * The counters of one running container (full id). `platformRoot`: where this machine's cgroupfs
 * is mounted, or null to skip straight to the exec (tests use it to prove both ways).
 */
export async function readCounters(docker: Dockerode, id: string, platformRoot: string | null = '/sys/fs/cgroup'): Promise<CounterRead> {
  let info: CgroupInfo;
  try {
    info = await cgroupInfo(docker);
  } catch (err) {
    return { error: `the engine did not say which cgroup version it uses: ${(err as Error).message}` };
  }
  if (platformRoot) {
    const c = await fromPlatform(platformRoot, id, info);
    if (c) return { counters: c, via: 'cgroupfs' };
  }
  try {
    return await fromHost(docker, id, info);
  } catch (err) {
    return { error: `cannot read the host's limit counters: ${(err as Error).message}` };
  }
}
