/**
 * The one container every contender's shell runs in, made by the real
 * DockerDriver (labforge/base, built if missing), and the `docker exec`
 * command line they all use: the same as DockerDriver.openTerminal's, minus
 * its terminal marker, so the path under test is identical.
 */
import { randomBytes } from 'node:crypto';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';
import { progress } from '../lib/stats';

export const HOST = 'box';

/** A command that starts an interactive shell in a pty. */
export interface ShellCommand {
  file: string;
  args: string[];
  /** Environment for it (default: the server's own). */
  env?: Record<string, string>;
}

export interface BenchContainer {
  env: Environment;
  /** Container id. */
  ref: string;
  /** `docker exec -it … bash -l` into the container. */
  shell: ShellCommand;
  destroy(): Promise<void>;
}

export async function createContainer(image: string): Promise<BenchContainer> {
  const driver = new DockerDriver();
  const problems = await driver.prerequisites();
  if (problems.length) throw new Error(`Docker is not usable: ${problems.map((p) => `${p.what} (${p.fix})`).join('; ')}`);
  const owner = `bench-${randomBytes(3).toString('hex')}`;
  progress(`creating container ${owner} (${image}; the image is built first if missing)`);
  const env = await driver.create(
    { owner, lab: 'bench', labRoot: '/tmp', environment: { driver: 'docker', hosts: [dockerHostSchema.parse({ name: HOST, image })] } },
    (p) => {
      if (p.status !== 'running') progress(`  ${p.step}: ${p.status}${p.ms !== undefined ? ` (${p.ms} ms)` : ''}`);
    },
  );
  const h = env.hosts[0];
  return {
    env,
    ref: h.ref,
    shell: { file: 'docker', args: ['exec', '-it', '-e', 'TERM=xterm-256color', '-w', h.spec.workdir, h.ref, h.spec.shell, '-l'] },
    destroy: () => driver.destroyOwner(owner),
  };
}
