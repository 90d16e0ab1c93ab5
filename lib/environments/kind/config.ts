/**
 * Pure functions from a lab's `cluster:` spec to what kind needs: the cluster
 * name, the kind `Cluster` config (YAML on `kind create cluster --config -`)
 * and where its API server answers inside the Docker network.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { KindCluster } from '../../labs/schema';

/**
 * kind's own limits (sigs.k8s.io/kind): names must match `^[a-z0-9.-]+$`, and at
 * most 50 characters, because `-control-plane` (14) is appended to make the
 * node's hostname, which Linux caps at 64.
 */
export const KIND_NAME_MAX = 50;
export const KIND_NAME_RE = /^[a-z0-9.-]+$/;
export const CLUSTER_PREFIX = 'lf-';

/**
 * `lf-<owner>` when the owner already fits kind's rules (session ids do); else a
 * readable, lowercased part plus a hash of the real owner, so two owners that
 * differ only in case or `_` never share a cluster.
 */
export function clusterName(owner: string): string {
  const plain = `${CLUSTER_PREFIX}${owner}`;
  if (KIND_NAME_RE.test(plain) && plain.length <= KIND_NAME_MAX && !plain.endsWith('.') && !plain.endsWith('-')) return plain;
  const hash = createHash('sha256').update(owner).digest('hex').slice(0, 8);
  const readable = owner
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .slice(0, KIND_NAME_MAX - CLUSTER_PREFIX.length - hash.length - 1)
    .replace(/[.-]+$/, '');
  return `${CLUSTER_PREFIX}${readable ? `${readable}-` : ''}${hash}`;
}

type Roles = { nodes: readonly { role: 'control-plane' | 'worker' }[] };

/** Where the API server answers inside the Docker network (the HA load balancer when there are several control planes). */
export function apiServerHost(name: string, cluster: Roles): string {
  const planes = cluster.nodes.filter((n) => n.role === 'control-plane').length;
  return planes > 1 ? `${name}-external-load-balancer` : `${name}-control-plane`;
}
/** kubeadm's API server port inside the nodes (also the HA load balancer's). */
export const API_SERVER_PORT = 6443;

/** The kind `Cluster` object (apiVersion kind.x-k8s.io/v1alpha4). */
export function kindConfig(name: string, cluster: KindCluster): Record<string, unknown> {
  const networking: Record<string, unknown> = {};
  if (cluster.disableDefaultCNI) networking.disableDefaultCNI = true;
  // kind's default is iptables: only say so when it is something else.
  if (cluster.kubeProxyMode !== 'iptables') networking.kubeProxyMode = cluster.kubeProxyMode;
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name,
    nodes: cluster.nodes.map((n) => ({
      role: n.role,
      ...(cluster.nodeImage ? { image: cluster.nodeImage } : {}),
      ...(Object.keys(n.labels ?? {}).length ? { labels: { ...n.labels } } : {}),
    })),
    ...(Object.keys(networking).length ? { networking } : {}),
  };
}

export function kindConfigYaml(name: string, cluster: KindCluster): string {
  return stringify(kindConfig(name, cluster));
}
