/**
 * The line between learner hosts and the machine they run on (issue: hold the line).
 *
 * - Capabilities: every host drops all and gets back DEFAULT_CAPABILITIES (enough for sshd,
 *   ping, tcpdump and lf-sandbox) plus what its lab declares; `no-new-privileges` always.
 * - Network: each session gets its own bridge, named `lfbr-…`, or `lfbe-…` when the lab asks for
 *   egress. Two firewall rules cover every such bridge: INPUT drops new connections from a lab
 *   to the machine itself (the host owns each bridge's gateway address and answers there, the
 *   platform's port included; replies to connections the platform opens, as the service proxy
 *   does, still pass), and DOCKER-USER drops whatever an `lfbr` bridge would forward anywhere
 *   but back into a lab bridge. Docker's own "internal" networks are not used: with
 *   br-netfilter on, their rule drops every frame not addressed to the subnet, multicast too.
 *   The rules are installed from a short-lived container in the host's network namespace with
 *   NET_ADMIN, so it works the same when Labforge itself runs in a container, and verified.
 * - Disk: a host's writable layer is limited when the engine can (overlay2 on XFS with pquota);
 *   scripts/setup-machine.sh gives dockerd such a data root where the kernel has XFS quotas.
 *   (btrfs qgroups were tried: Docker's subvolume deletions keep marking them inconsistent, and
 *   the limits then stop holding, so btrfs counts as "cannot limit".)
 */
import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import { log as rootLog } from '../../base/log';
import { EnvironmentError } from '../driver';

const log = rootLog.child({ module: 'boundary' });

export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SYS_CHROOT',
  'AUDIT_WRITE',
];

/** Linux interface names are at most 15 characters: `lfbr-` + 10 hex of the owner. */
export function bridgeName(owner: string, egress = false): string {
  return `${egress ? 'lfbe' : 'lfbr'}-${createHash('sha256').update(owner).digest('hex').slice(0, 10)}`;
}

/** New connections from any lab bridge (`lfbr`, `lfbe`) to the host itself; replies pass. */
const TO_HOST = '-i lfb+ -m conntrack ! --ctstate ESTABLISHED,RELATED -j DROP';
/** Anything a no-egress bridge would forward out of the labs. */
const OUT = '-i lfbr+ ! -o lfb+ -j DROP';

const INSTALL = `
set -e
ensure() { "$1" -w -C "$2" $3 2>/dev/null || "$1" -w -I "$2" $3; "$1" -w -C "$2" $3; }
for t in iptables ip6tables; do
  ensure "$t" INPUT "${TO_HOST}"
  # DOCKER-USER comes first in FORWARD and Docker never rewrites it; FORWARD where it is missing.
  if "$t" -w -S DOCKER-USER >/dev/null 2>&1; then ensure "$t" DOCKER-USER "${OUT}"; else ensure "$t" FORWARD "${OUT}"; fi
done
echo installed
`;

export type FirewallMode = 'on' | 'off';

/**
 * Installs (idempotently) and verifies the rule. Throws an EnvironmentError that says how to
 * fix it when it cannot: environments are not created without it, unless the operator said
 * they handle it themselves (LABFORGE_HOST_FIREWALL=off).
 */
export async function ensureHostFirewall(docker: Dockerode, image: string): Promise<void> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: ['/bin/sh', '-c', INSTALL],
    User: '0',
    HostConfig: { NetworkMode: 'host', CapDrop: ['ALL'], CapAdd: ['NET_ADMIN', 'NET_RAW'] },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const out = (await c.logs({ stdout: true, stderr: true })).toString('utf8').trim();
    if (StatusCode !== 0 || !out.includes('installed')) {
      throw new EnvironmentError(
        `cannot install the firewall rule that keeps learner hosts away from this machine: ${out.slice(-300) || `exit ${StatusCode}`}`,
        'the Docker engine must allow a --network host container with NET_ADMIN; or add the rule yourself (docs/security.md) and set LABFORGE_HOST_FIREWALL=off',
      );
    }
    log.info({ input: TO_HOST, forward: OUT }, 'host firewall for lab bridges in place');
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

/** Whether this engine limits a container's writable layer: overlay2 on XFS with pquota. */
export async function diskLimitSupported(docker: Dockerode, image: string): Promise<boolean> {
  const info = (await docker.info()) as { Driver?: string };
  if (info.Driver !== 'overlay2') return false;
  // Ask the engine itself: overlay2 refuses the option unless its backing file system can.
  try {
    const c = await docker.createContainer({ Image: image, Cmd: ['true'], HostConfig: { StorageOpt: { size: '64M' }, NetworkMode: 'none' } });
    await c.remove({ force: true }).catch(() => {});
    return true;
  } catch (err) {
    const msg = (err as { json?: { message?: string }; message?: string }).json?.message ?? (err as Error).message;
    if (/storage-opt|storage option|quota|pquota|xfs/i.test(msg)) return false;
    throw err;
  }
}
