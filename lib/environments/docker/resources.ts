/**
 * Everything the Docker driver makes (networks, host containers, sidecars) carries the same
 * labels; this finds it by them and removes it, also without the Environment record (the
 * reconciler after a crash).
 */
import type Dockerode from 'dockerode';
import { EnvironmentError, LABELS, type FoundEnvironment } from '../driver';
import { engineReason, engineStatus, ignoreGone } from './errors';

/** The labels of an owner's resources; `instance` (a server's) limits list() to what that server made. */
export function ownerLabels(owner: string, lab: string, instance?: string): Record<string, string> {
  return {
    [LABELS.managed]: '1',
    [LABELS.session]: owner,
    [LABELS.lab]: lab,
    ...(instance ? { [LABELS.instance]: instance } : {}),
  };
}

/** The engine's filter for everything the driver made (of this instance, when set). */
export function managedFilters(instance?: string): { label: string[] } {
  return { label: [`${LABELS.managed}=1`, ...(instance ? [`${LABELS.instance}=${instance}`] : [])] };
}

/**
 * Containers first (a network with endpoints cannot go), in parallel; already gone is fine. A
 * network that still has endpoints had a container join after the list was made (a sidecar, a
 * host still being created by a cancelled provisioning) or one whose removal is still under way:
 * whatever is attached then is removed too, and the removal is tried again, for up to ~15 s.
 */
export async function removeResources(docker: Dockerode, containers: string[], networks: string[]): Promise<void> {
  await Promise.all(containers.map((id) => docker.getContainer(id).remove({ force: true, v: true }).catch(ignoreGone)));
  await Promise.all(networks.map((id) => removeNetwork(docker, id)));
}

async function removeNetwork(docker: Dockerode, id: string): Promise<void> {
  const network = docker.getNetwork(id);
  for (let attempt = 0; ; attempt++) {
    try {
      return await network.remove();
    } catch (err) {
      if (engineStatus(err) === 404) return;
      if (attempt >= 20) throw new EnvironmentError(`removing network ${id.slice(0, 12)} failed: ${engineReason(err)}`);
    }
    // 403 "has active endpoints": remove what is attached now (only the owner's resources are on its network).
    const attached = await network
      .inspect()
      .then((n: { Containers?: Record<string, unknown> }) => Object.keys(n.Containers ?? {}))
      .catch(() => []);
    await Promise.all(
      attached.map((c) =>
        docker
          .getContainer(c)
          .remove({ force: true, v: true })
          .catch(ignoreGone)
          .catch(() => network.disconnect({ Container: c, Force: true }).catch(() => undefined)),
      ),
    );
    await new Promise((r) => setTimeout(r, Math.min(1000, 100 * (attempt + 1))));
  }
}

/** Every container and network with the owner's label, whoever made it (a Traffic sidecar too). */
export async function removeOwner(docker: Dockerode, owner: string): Promise<void> {
  const filters = { label: [`${LABELS.managed}=1`, `${LABELS.session}=${owner}`] };
  const [containers, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
  await removeResources(
    docker,
    containers.map((c) => c.Id),
    networks.map((n) => n.Id),
  );
}

/** What this driver (of this instance, when set) made, by owner. */
export async function listOwners(docker: Dockerode, instance?: string): Promise<FoundEnvironment[]> {
  const filters = managedFilters(instance);
  const [containers, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
  const byOwner = new Map<string, FoundEnvironment>();
  const add = (labels: Record<string, string> | undefined, id: string) => {
    const owner = labels?.[LABELS.session];
    if (!owner) return;
    const found = byOwner.get(owner) ?? { owner, lab: labels?.[LABELS.lab] ?? '', resources: [] };
    found.resources.push(id);
    byOwner.set(owner, found);
  };
  containers.forEach((c) => add(c.Labels, c.Id));
  networks.forEach((n) => add(n.Labels, n.Id));
  return [...byOwner.values()];
}

/** How busy an engine is, for placing new environments on a fleet (lib/environments/fleet.ts). */
export interface EngineLoad {
  /** CPUs and memory the engine reports (`docker info`). */
  cpus: number;
  memoryBytes: number;
  /** Running containers Labforge made on it, of any server: learner hosts and sidecars. */
  labContainers: number;
}

export async function engineLoad(docker: Dockerode): Promise<EngineLoad> {
  const [info, running] = await Promise.all([
    docker.info() as Promise<{ NCPU?: number; MemTotal?: number }>,
    docker.listContainers({ filters: { label: [`${LABELS.managed}=1`], status: ['running'] } }),
  ]);
  return { cpus: info.NCPU || 1, memoryBytes: info.MemTotal ?? 0, labContainers: running.length };
}
