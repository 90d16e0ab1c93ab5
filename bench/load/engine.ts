/**
 * What the load costs outside the server process, sampled every few seconds:
 *  - the session containers (those with our instance label): memory (usage minus inactive page
 *    cache, as `docker stats` counts it) and CPU, read from their cgroups (v1 or v2), which is
 *    cheap enough to do while 240 containers run, unlike `docker stats`;
 *  - the engine itself (dockerd and containerd): RSS and CPU from /proc.
 * CPU is in cores (1.0 = one core busy) averaged between samples.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { cpuSeconds, rssBytes } from '../lib/stats';

const run = promisify(execFile);

export interface EngineSample {
  at: number;
  containers: number;
  containersMemBytes: number;
  /** Cores used by the containers since the previous sample. */
  containersCpu?: number;
  engineRssBytes: number;
  /** Cores used by dockerd + containerd since the previous sample. */
  engineCpu?: number;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function statValue(text: string | undefined, key: string): number {
  const m = text?.match(new RegExp(`^${key} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

/** Memory (bytes) and CPU time (seconds) of one container from its cgroup; undefined when not found. */
function containerUsage(id: string): { mem: number; cpu: number } | undefined {
  // cgroup v1, cgroupfs driver
  const v1 = read(`/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`);
  if (v1 !== undefined) {
    const stat = read(`/sys/fs/cgroup/memory/docker/${id}/memory.stat`);
    const cpu = Number(read(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`) ?? 0) / 1e9;
    return { mem: Number(v1) - statValue(stat, 'total_inactive_file'), cpu };
  }
  // cgroup v2: systemd or cgroupfs driver
  for (const dir of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    const cur = read(`${dir}/memory.current`);
    if (cur === undefined) continue;
    const stat = read(`${dir}/memory.stat`);
    return { mem: Number(cur) - statValue(stat, 'inactive_file'), cpu: statValue(read(`${dir}/cpu.stat`), 'usage_usec') / 1e6 };
  }
  return undefined;
}

async function pids(name: string): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-x', name]);
    return stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Container ids with our instance label (running ones: stopped containers use nothing). */
export async function containerIds(instance: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-q', '--no-trunc', '--filter', `label=labforge.instance=${instance}`], { timeout: 30_000 });
  return stdout.split('\n').filter(Boolean);
}

/** Every container with our label, running or not (what cleanup must have removed). */
export async function allContainerIds(instance: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=labforge.instance=${instance}`], { timeout: 30_000 });
  return stdout.split('\n').filter(Boolean);
}

export class EngineSampler {
  readonly samples: EngineSample[] = [];
  private prevCpu = new Map<string, number>();
  private prevEngineCpu?: number;
  private prevAt?: number;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private engine: number[] = [];

  constructor(
    private readonly instance: string,
    private readonly everyMs = 3_000,
  ) {}

  async start(): Promise<void> {
    this.engine = [...(await pids('dockerd')), ...(await pids('containerd'))];
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Samples taken from `since` (performance.now()) on. */
  since(since: number): EngineSample[] {
    return this.samples.filter((s) => s.at >= since);
  }

  private async sample(): Promise<void> {
    if (this.busy) return; // a slow `docker ps` under load: skip a tick rather than pile up
    this.busy = true;
    try {
      const ids = await containerIds(this.instance).catch(() => [] as string[]);
      const at = performance.now();
      let mem = 0;
      let cpuDelta = 0;
      const cpuNow = new Map<string, number>();
      for (const id of ids) {
        const u = containerUsage(id);
        if (!u) continue;
        mem += u.mem;
        cpuNow.set(id, u.cpu);
        const before = this.prevCpu.get(id);
        if (before !== undefined) cpuDelta += Math.max(0, u.cpu - before);
      }
      const engineCpu = this.engine.reduce((a, p) => a + (cpuSeconds(p) ?? 0), 0);
      const engineRss = this.engine.reduce((a, p) => a + (rssBytes(p) ?? 0), 0);
      const dt = this.prevAt === undefined ? undefined : (at - this.prevAt) / 1000;
      this.samples.push({
        at,
        containers: ids.length,
        containersMemBytes: mem,
        containersCpu: dt ? cpuDelta / dt : undefined,
        engineRssBytes: engineRss,
        engineCpu: dt && this.prevEngineCpu !== undefined ? (engineCpu - this.prevEngineCpu) / dt : undefined,
      });
      this.prevCpu = cpuNow;
      this.prevEngineCpu = engineCpu;
      this.prevAt = at;
    } finally {
      this.busy = false;
    }
  }
}
