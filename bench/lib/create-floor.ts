/**
 * The engine's floor for creating an environment: N containers of the lab's image started at
 * once with the `docker` CLI (`docker run -d`, in parallel, on a fresh bridge network), with
 * nothing of ours around them: no toolbox, no files, no scripts. What Labforge's create can at
 * best approach on this machine; the network's own creation is not counted.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';

const run = promisify(execFile);

/** Labels that the bench's cleanup (driver.list() by instance) also finds, should a run die half-way. */
function labelArgs(labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
}

/** Milliseconds until all `count` containers run; everything made is removed before it returns. */
export async function parallelCreateFloorMs(image: string, count: number, name: string, labels: Record<string, string>): Promise<number> {
  await run('docker', ['network', 'create', ...labelArgs(labels), name]);
  const containers = Array.from({ length: count }, (_, i) => `${name}-${i}`);
  try {
    const t0 = performance.now();
    await Promise.all(
      containers.map((c) => run('docker', ['run', '-d', '--init', '--name', c, '--network', name, ...labelArgs(labels), image, 'sleep', 'infinity'])),
    );
    return performance.now() - t0;
  } finally {
    await run('docker', ['rm', '-f', ...containers]).catch(() => undefined);
    await run('docker', ['network', 'rm', name]).catch(() => undefined);
  }
}

/**
 * The same floor for many environments at once, through the Engine API (no CLI process per
 * container, so hundreds fit): `environments` bridge networks (made first, not counted), then
 * `environments × hostsPerEnvironment` containers created and started at once. Milliseconds
 * until all run; everything made is removed before it returns.
 */
export async function parallelEnvironmentsFloorMs(
  image: string,
  environments: number,
  hostsPerEnvironment: number,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode();
  const made: Dockerode.Container[] = [];
  const networks: Dockerode.Network[] = [];
  try {
    // Every network made is removed below, also when the engine runs out of address pools half-way.
    const tries = await Promise.allSettled(
      Array.from({ length: environments }, (_, e) => docker.createNetwork({ Name: `${name}-${e}`, Driver: 'bridge', Labels: labels })),
    );
    for (const t of tries) if (t.status === 'fulfilled') networks.push(t.value);
    const refused = tries.find((t): t is PromiseRejectedResult => t.status === 'rejected');
    if (refused) throw new Error(`the engine made ${networks.length} of ${environments} networks: ${(refused.reason as Error).message}`);
    const t0 = performance.now();
    await Promise.all(
      networks.flatMap((_, e) =>
        Array.from({ length: hostsPerEnvironment }, async (_, h) => {
          const c = await docker.createContainer({
            name: `${name}-${e}-${h}`,
            Image: image,
            Cmd: ['sleep', 'infinity'],
            Labels: labels,
            HostConfig: { Init: true, NetworkMode: `${name}-${e}` },
          });
          made.push(c);
          await c.start();
        }),
      ),
    );
    return performance.now() - t0;
  } finally {
    await Promise.all(made.map((c) => c.remove({ force: true }).catch(() => undefined)));
    await Promise.all(networks.map((n) => n.remove().catch(() => undefined)));
  }
}
