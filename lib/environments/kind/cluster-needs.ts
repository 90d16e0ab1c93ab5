/**
 * What one lab's cluster needs from the host beyond the Kind driver's own floor (prereqs.ts),
 * decided from the lab itself: the Cilium addon's values, with the driver's defaults merged in as
 * they will be installed. Checked by `prerequisites(environment)` and again before a cluster is
 * created, so a host that cannot run the lab says why instead of failing a challenge later.
 */
import type { KindCluster } from '../../labs/schema';
import type { Problem } from '../driver';
import { addonValues, isCiliumChart } from './addons';
import { kernelAtLeast, type PrereqProbes } from './prereqs';

/**
 * Cilium's multicast map needs the bpf_for_each_map_elem helper (Linux 5.13): on older kernels the
 * agent logs "Disabled support for BPF Multicast due to missing kernel support (Linux 5.13 or
 * later)" and runs without it, although its documentation says 5.10 (cilium
 * pkg/maps/multicast/subscribermap.go, NewGroupV4Map).
 */
export const MIN_MULTICAST_KERNEL = { major: 5, minor: 13 };
/** Present only where /sys/fs/cgroup is the cgroup v2 (unified) hierarchy. */
export const CGROUP2_MARKER = '/sys/fs/cgroup/cgroup.controllers';

type Values = Record<string, unknown>;
const isTrue = (v: unknown) => v === true || v === 'true';

/** The values the cluster's Cilium addon is installed with (driver defaults under the lab's), or null without one. */
export function ciliumValues(cluster: KindCluster): Values | null {
  const addon = cluster.addons.find((a) => isCiliumChart(a.chart));
  // The cluster name only fills ${CLUSTER_NAME}; nothing decided here depends on it.
  return addon ? addonValues(addon, { cluster: 'lf-probe', spec: cluster }) : null;
}

/** The lab switches Cilium multicast on (`extraConfig: {multicast-enabled: "true"}`: the chart has no value of its own for it). */
export function needsMulticast(cluster: KindCluster): boolean {
  const extra = ciliumValues(cluster)?.extraConfig;
  return typeof extra === 'object' && extra !== null && isTrue((extra as Values)['multicast-enabled']);
}

/** Cilium replaces kube-proxy (`kubeProxyReplacement`; the driver sets it when kubeProxyMode is none), and so load-balances at the socket. */
export function needsSocketLB(cluster: KindCluster): boolean {
  const kpr = ciliumValues(cluster)?.kubeProxyReplacement;
  return isTrue(kpr) || kpr === 'strict';
}

/** One Problem per host property this cluster needs and the host lacks. Judges Linux hosts only: a Docker VM's kernel cannot be seen from here. */
export async function clusterPrerequisites(cluster: KindCluster, p: Pick<PrereqProbes, 'kernelRelease' | 'fileExists' | 'platform'>): Promise<Problem[]> {
  if (p.platform !== 'linux') return [];
  const problems: Problem[] = [];
  const { major, minor } = MIN_MULTICAST_KERNEL;
  const release = p.kernelRelease();
  if (needsMulticast(cluster) && !kernelAtLeast(release, MIN_MULTICAST_KERNEL)) {
    problems.push({
      what:
        `Linux kernel ${release} is older than ${major}.${minor}: this lab turns on Cilium multicast, which needs the bpf_for_each_map_elem helper of Linux ${major}.${minor} ` +
        `(on older kernels the agents log "Disabled support for BPF Multicast due to missing kernel support" and run without multicast)`,
      fix: `run this lab on a host with Linux ${major}.${minor} or later (kind nodes share the host kernel)`,
    });
  }
  // Cilium attaches its socket load balancer to the cgroup v2 root it sees: with cgroup v1 every
  // kind cluster on the host shares one, and their Services break (cilium/cilium#14951, Cilium's kind guide).
  if (needsSocketLB(cluster) && !(await p.fileExists(CGROUP2_MARKER))) {
    problems.push({
      what: `this host does not run cgroup v2 (no ${CGROUP2_MARKER}): the lab's Cilium replaces kube-proxy, and its socket load balancing needs cgroup v2 with a cgroup namespace per kind node, or the clusters on this host attach to the same cgroup and break each other's Services`,
      fix: "boot the host with cgroup v2 only (kernel parameter systemd.unified_cgroup_hierarchy=1, the default of current distributions) and keep Docker's cgroup namespaces private (dockerd --default-cgroupns-mode=private, its default on cgroup v2)",
    });
  }
  return problems;
}
