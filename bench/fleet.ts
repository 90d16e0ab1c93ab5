/**
 * `npm run bench -- fleet`: provisioning N environments at once (default 20, two hosts each)
 * on one Docker engine, then on a fleet of two (the machine's own and a second dockerd beside it,
 * scripts/extra-engine.sh), with the server's provisioning concurrency (base/limiter.ts, from the
 * cores). Reports, for each: all created (wall), each creation p50/p99, and how the fleet spread
 * them; the fleet's time as a ratio of the single engine's, measured in the same run. On one
 * machine both engines share its cores, so the ratio shows the fleet's own cost (placement,
 * routing), not the gain of a second machine. Needs root; cleans up after itself.
 * JSON on stdout; progress on stderr.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Limiter, machineLimits } from '../lib/base/limiter';
import { createDrivers } from '../lib/environments';
import type { Environment, EnvironmentDriver } from '../lib/environments/driver';
import { dockerHostSchema } from '../lib/labs/schema';
import { machineInfo, percentile, progress, ratio, round } from './lib/stats';
import type { Bench, BenchOptions } from './run';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENGINE = 'benchfleet';

const OPTIONS = {
  sessions: 'environments created at once (default 20)',
  hosts: 'hosts per environment (default 2)',
};

async function provision(driver: EnvironmentDriver, n: number, hosts: number, tag: string) {
  const limiter = new Limiter(machineLimits(os.cpus().length).provisioning, 'its turn');
  const spec = (i: number) => ({
    owner: `bench-${tag}-${i}`,
    lab: 'bench-fleet',
    labRoot: root,
    environment: {
      driver: 'docker' as const,
      hosts: Array.from({ length: hosts }, (_, h) => dockerHostSchema.parse({ name: `h${h}`, image: 'labforge/base' })),
    },
  });
  const t0 = Date.now();
  const done: Array<{ env: Environment; ms: number }> = [];
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      limiter.run(async () => {
        const t = Date.now();
        const env = await driver.create(spec(i) as never, () => {});
        done.push({ env, ms: Date.now() - t });
      }),
    ),
  );
  const wallMs = Date.now() - t0;
  const spread: Record<string, number> = {};
  for (const d of done) spread[d.env.meta.engine ?? 'default'] = (spread[d.env.meta.engine ?? 'default'] ?? 0) + 1;
  await Promise.all(done.map((d) => driver.destroy(d.env)));
  const each = done.map((d) => d.ms);
  return { wallMs, createP50Ms: round(percentile(each, 50), 1), createP99Ms: round(percentile(each, 99), 1), spread };
}

export const bench: Bench = {
  description: 'N environments provisioned at once on one Docker engine, then on a fleet of two (a second dockerd on this machine)',
  options: OPTIONS,
  async run(options: BenchOptions) {
    const n = Number(options.sessions ?? 20);
    const hosts = Number(options.hosts ?? 2);
    const script = path.join(root, 'scripts/extra-engine.sh');
    const up = spawnSync('bash', [script, 'start', ENGINE, '10.216.0.0/16'], { encoding: 'utf8' });
    if (up.status !== 0) return { skipped: `a second engine could not start: ${up.stderr.trim()}` };
    try {
      const base = { dataDir: path.join(root, 'data'), instance: `bench-fleet-${process.pid}` };
      const single = createDrivers(base).docker;
      const fleet = createDrivers({
        ...base,
        dockerEngines: [
          { name: 'a', url: 'unix:///var/run/docker.sock' },
          { name: 'b', url: up.stdout.trim() },
        ],
      }).docker;
      progress('warming up: the image and the toolbox on both engines');
      const t = Date.now();
      await provision(fleet, 2, 1, 'warm');
      const warmUpMs = Date.now() - t;
      progress(`one engine: ${n} environments of ${hosts} hosts`);
      const one = await provision(single, n, hosts, 'one');
      progress(`two engines: ${n} environments of ${hosts} hosts`);
      const two = await provision(fleet, n, hosts, 'two');
      return {
        bench: 'fleet',
        machine: machineInfo(),
        environments: n,
        hostsEach: hosts,
        concurrency: machineLimits(os.cpus().length).provisioning,
        warmUpMs,
        oneEngine: one,
        twoEngines: two,
        wallRatioTwoToOne: ratio(two.wallMs, one.wallMs),
      };
    } finally {
      spawnSync('bash', [script, 'stop', ENGINE, '--purge'], { stdio: 'inherit' });
    }
  },
};
