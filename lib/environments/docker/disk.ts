/**
 * What each Docker host of an environment used of its limits (DockerDriver.limits), and the
 * disk watchdog's one means of containment (DockerDriver.containHost).
 *
 * Disk: where the engine cannot limit a container's writable layer (overlay2 off XFS with
 * pquota, docs/security.md), the platform watches it instead. One engine call,
 * `GET /containers/json?size=true` filtered by the session's label, gives every host's `SizeRw`
 * (the bytes in its own layer: files written, and files of the image it changed); the engine
 * computes it by walking that layer, outside the host, so the learner cannot fake it. Whether the
 * engine enforces the limit itself is asked (one inspect) only of hosts near their limit: far
 * below it the answer changes nothing. Counters: cgroup-counters.ts, per running host.
 */
import type Dockerode from 'dockerode';
import { EnvironmentError, LABELS, type Environment, type HostLimitReading } from '../driver';
import { readCounters } from './cgroup-counters';
import { engineStatus } from './errors';
import { sizeBytes } from '../../labs/schema';

/** From this share of its limit on, a host's layer is checked for an engine-side limit. */
export const NEAR_LIMIT = 0.5;

export interface ReadOptions {
  /** Passed to readCounters: this machine's cgroupfs root, or null to read counters by exec only. */
  platformCgroupRoot?: string | null;
}

/** Whether the container was created with the engine's disk quota (docker.ts sets StorageOpt.size only where it holds). */
async function engineLimitsDisk(docker: Dockerode, id: string): Promise<boolean | undefined> {
  try {
    const info = await docker.getContainer(id).inspect();
    return Boolean(info.HostConfig?.StorageOpt?.size);
  } catch {
    return undefined;
  }
}

/** One reading per host of `env`, in its order; a host the engine no longer has reads as not running, with an error. */
export async function readHostLimits(docker: Dockerode, env: Environment, opts: ReadOptions = {}): Promise<HostLimitReading[]> {
  // dockerode's ContainerInfo leaves out SizeRw, which the engine adds for `size=true`. A failure
  // throws: reading every host as "not running" would reset the counters' baselines.
  let listed: (Dockerode.ContainerInfo & { SizeRw?: number })[];
  try {
    listed = await docker.listContainers({ all: true, size: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.session}=${env.owner}`] } });
  } catch (err) {
    throw new EnvironmentError(`the engine did not list the hosts' disk use: ${(err as Error).message}`);
  }
  const byId = new Map(listed.map((c) => [c.Id, c]));
  return Promise.all(
    env.hosts.map(async (h): Promise<HostLimitReading> => {
      const limits = { memory: sizeBytes(h.spec.resources.memory), pids: h.spec.resources.pids, disk: sizeBytes(h.spec.resources.disk) };
      const c = byId.get(h.ref);
      if (!c) return { host: h.name, running: false, limits, error: `host ${h.name} is gone (its container was removed)` };
      // A paused container keeps its cgroup and counters; only exited (or never started) ones restart at 0.
      const running = c.State === 'running' || c.State === 'paused';
      const reading: HostLimitReading = { host: h.name, running, limits };
      // The engine leaves SizeRw out when it is 0 (Go's omitempty).
      const written = c.SizeRw ?? 0;
      // Far below the limit it does not matter whether the engine enforces it: say "not enforced".
      const enforced = written >= limits.disk * NEAR_LIMIT ? await engineLimitsDisk(docker, c.Id) : false;
      if (enforced !== undefined) reading.disk = { written, enforced };
      if (running) {
        const r = await readCounters(docker, c.Id, opts.platformCgroupRoot);
        if ('counters' in r) reading.counters = r.counters;
        else reading.error = r.error;
      }
      return reading;
    }),
  );
}

/**
 * Stops a host at once (SIGKILL: a writer at full speed must not get a grace period). Its layer
 * stays, so the learner can restart it and delete what they wrote; already stopped is fine.
 */
export async function stopHost(docker: Dockerode, env: Environment, host: string): Promise<void> {
  const h = env.hosts.find((x) => x.name === host);
  if (!h) return;
  try {
    await docker.getContainer(h.ref).stop({ t: 0 });
  } catch (err) {
    const status = engineStatus(err);
    // 304: already stopped; 404: gone (the watch pass reports that on its own).
    if (status !== 304 && status !== 404) throw err;
  }
}
