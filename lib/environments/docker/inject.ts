/**
 * Datagrams sent "from" a learner host without anything running in it: a short-lived
 * sidecar container that joins only the host's network namespace (NetworkMode
 * `container:<host>`). Its packets leave with the host's address, so tcpdump, socat -d -d
 * and the Traffic tab name that host as the sender, while the sidecar's processes,
 * environment and files live in namespaces of their own, out of the learner's sight.
 */
import type Dockerode from 'dockerode';
import { EnvironmentError, LABELS, type Datagrams } from '../driver';

/** The sidecar's whole program: the payload arrives base64-encoded in its environment. */
const SEND = `
set -eu
i=0
while [ "$i" -lt "$COUNT" ]; do
  [ "$i" -gt 0 ] && sleep "$INTERVAL"
  printf %s "$PAYLOAD_B64" | base64 -d | socat -u STDIN "UDP4-DATAGRAM:$TARGET,ip-multicast-ttl=8"
  i=$((i + 1))
done
`;

/** Generous: `count` copies at `interval`, plus container start and stop. */
const deadlineMs = (d: Datagrams) => 15_000 + d.count * d.intervalMs;

export async function sendFromHost(docker: Dockerode, hostRef: string, image: string, labels: Record<string, string>, d: Datagrams): Promise<void> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: ['/bin/sh', '-c', SEND],
    Env: [`PAYLOAD_B64=${d.payload.toString('base64')}`, `TARGET=${d.address}:${d.port}`, `COUNT=${d.count}`, `INTERVAL=${(d.intervalMs / 1000).toFixed(3)}`],
    Labels: { ...labels, [LABELS.role]: 'inject' },
    HostConfig: {
      NetworkMode: `container:${hostRef}`,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Memory: 32 * 1024 * 1024,
      PidsLimit: 32,
    },
  });
  try {
    await c.start();
    const wait = c.wait() as Promise<{ StatusCode: number }>;
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new EnvironmentError('sending timed out')), deadlineMs(d)).unref());
    const { StatusCode } = await Promise.race([wait, timer]);
    if (StatusCode !== 0) {
      const logs = (await c.logs({ stdout: true, stderr: true })).toString('utf8').trim().slice(-300);
      throw new EnvironmentError(`sending to ${d.address}:${d.port} failed (exit ${StatusCode}): ${logs}`);
    }
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}
