/**
 * A cluster's node containers, as the Docker engine sees them (kind labels them with the
 * cluster's name): for health(), hosts() and knowing whether a cluster is really gone.
 */
import type Dockerode from 'dockerode';
import type { HostState } from '../driver';

/** kind's label on its node containers. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';

export function clusterNodes(docker: Dockerode, cluster: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${KIND_CLUSTER_LABEL}=${cluster}`] } });
}

const nodeName = (n: Dockerode.ContainerInfo) => n.Names[0]?.replace(/^\//, '');

/** Every node container running, or what is wrong in words. */
export async function nodesHealth(docker: Dockerode, cluster: string): Promise<{ ok: boolean; detail?: string }> {
  const nodes = await clusterNodes(docker, cluster);
  if (!nodes.length) return { ok: false, detail: `cluster ${cluster} is gone (no kind node containers)` };
  const down = nodes.find((n) => n.State !== 'running');
  return down ? { ok: false, detail: `kind node ${nodeName(down)} is ${down.State}` } : { ok: true };
}

/**
 * Every node container as a host: one that is not running is `gone`. Starting a node container
 * again does not bring its cluster back in a state we can vouch for (kubelet, CNI and
 * certificates are kind's business), so the session fails with the reason instead.
 */
export async function nodeStates(docker: Dockerode, cluster: string): Promise<HostState[]> {
  const nodes = await clusterNodes(docker, cluster);
  if (!nodes.length) return [{ host: cluster, state: 'gone', reason: `cluster ${cluster} is gone (no kind node containers)` }];
  return nodes.map((n): HostState => {
    const node = nodeName(n) ?? n.Id.slice(0, 12);
    if (n.State === 'running') return { host: node, state: 'running' };
    return {
      host: node,
      state: 'gone',
      reason: `kind node ${node} is ${n.State}${n.Status ? ` (${n.Status})` : ''}; a cluster node cannot be restarted safely`,
    };
  });
}

/** Whether any node container of the cluster is left; true when the engine cannot tell (keep the claim so a later pass retries). */
export async function nodeContainersExist(docker: Dockerode, cluster: string): Promise<boolean> {
  try {
    return (await clusterNodes(docker, cluster)).length > 0;
  } catch {
    return true;
  }
}
