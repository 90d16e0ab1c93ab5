/**
 * A Docker environment's hosts after creation: what the engine says about them now
 * (EnvironmentDriver.health and hosts) and starting a stopped one again (restartHost). The words for a
 * stop are docker/state.ts's; this is the engine side.
 */
import type Dockerode from 'dockerode';
import { EnvironmentError, hostOf, type Environment, type HostHandle, type HostState } from '../driver';
import { engineStatus } from './errors';
import { hostState, type ContainerState } from './state';

/**
 * When the engine last started: the default `bridge` network's creation time, since dockerd
 * recreates it on every start (docker/state.ts). Undefined where there is no such network
 * (dockerd --bridge=none): then no stop is put down to an engine restart.
 */
export async function engineStartedAt(docker: Dockerode): Promise<Date | undefined> {
  try {
    const created = Date.parse(((await docker.getNetwork('bridge').inspect()) as { Created?: string }).Created ?? '');
    return Number.isFinite(created) ? new Date(created) : undefined;
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    throw err;
  }
}

/** EnvironmentDriver.health: the first host that does not run, if any. */
export async function healthOf(docker: Dockerode, env: Environment): Promise<{ ok: boolean; detail?: string }> {
  const states = await Promise.all(
    env.hosts.map(async (h) => {
      try {
        const info = await docker.getContainer(h.ref).inspect();
        return { host: h.name, status: info.State.Status };
      } catch (err) {
        if (engineStatus(err) === 404) return { host: h.name, status: 'gone' };
        throw err;
      }
    }),
  );
  const bad = states.find((s) => s.status !== 'running');
  return bad ? { ok: false, detail: `host ${bad.host} is ${bad.status}` } : { ok: true };
}

export async function inspectHosts(docker: Dockerode, env: Environment): Promise<HostState[]> {
  const inspected = await Promise.all(
    env.hosts.map(async (h) => {
      try {
        return { h, info: await docker.getContainer(h.ref).inspect() };
      } catch (err) {
        if (engineStatus(err) === 404) return { h, info: undefined };
        throw err;
      }
    }),
  );
  // Asked only when something stopped: the one extra call a watch pass makes then.
  const engine = inspected.some((x) => x.info && !x.info.State.Running) ? await engineStartedAt(docker) : undefined;
  return inspected.map(({ h, info }) => hostState(h.name, info?.State as ContainerState | undefined, info?.HostConfig.Memory || undefined, engine));
}

/**
 * Starts a stopped (or unpauses a paused) host and waits until it runs. Its writable layer, the
 * files copied at create and the toolbox mount are all still there; only processes are lost.
 * `ensureBoundary` runs first (a restarted engine may have dropped the firewall: never start a
 * host without it). The address is read again: the engine may hand out another one on start.
 * Engine errors are thrown as they are (the driver words them).
 */
export async function startHost(
  docker: Dockerode,
  env: Environment,
  host: string,
  ensureBoundary: () => Promise<unknown>,
  /** What a host that was stopped (not paused: its processes live on) runs again once it runs: its sshd. */
  restarted: (c: Dockerode.Container) => Promise<void> = async () => {},
): Promise<HostHandle> {
  const handle = hostOf(env, host);
  const c = docker.getContainer(handle.ref);
  const before = await c.inspect();
  if (!before.State.Running) await ensureBoundary();
  if (before.State.Paused) await c.unpause();
  else if (!before.State.Running) await c.start();
  for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 100))) {
    const info = await c.inspect();
    if (info.State.Running && !info.State.Paused) {
      if (!before.State.Running) await restarted(c);
      const net = env.meta.network ?? Object.keys(info.NetworkSettings.Networks)[0];
      return { ...handle, address: info.NetworkSettings.Networks[net]?.IPAddress || handle.address };
    }
    if (Date.now() > deadline) throw new EnvironmentError(`host ${host} did not come up: it is ${info.State.Status}`);
  }
}
