/**
 * Check latency: how long one check script takes through the trusted runner (runner.ts),
 * next to the floors measured in the same run on the same host: a bare Engine API exec of
 * `true`, and the same script run directly with the host's bash (no toolbox, no runner).
 * Also 8 checks at once on 8 hosts, as a Check of an 8-host challenge would run them if
 * they were parallel (they run in host order; this shows the engine's own concurrency).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Bench, BenchOptions } from './run';
import { DockerDriver } from '../lib/environments/docker/driver';
import type { Environment } from '../lib/environments/driver';
import { dockerHostSchema } from '../lib/labs/schema';
import { runScript } from '../lib/checks/scripts';
import { machineInfo, median, percentile, progress, ratio, round } from './lib/stats';

/** The shape of a real check: an awk over /proc/net/igmp, a FAIL line when it is missing. */
const CHECK = `#!/bin/bash
set -uo pipefail
if ! awk '$1 == "320000E1" { f = 1 } END { exit !f }' /proc/net/igmp; then
  echo "FAIL: no listener for 225.0.0.50 yet"
  exit 1
fi
`;

async function timeIt(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

const summary = (ms: number[]) => ({ p50: round(median(ms), 1), p90: round(percentile(ms, 90), 1), max: round(Math.max(...ms), 1), n: ms.length });

export const bench: Bench = {
  description: 'check script latency through the trusted runner, against a bare exec and a direct bash run',
  options: { samples: 'runs per measurement (default 30)' },
  async run(options: BenchOptions) {
    const n = Number(options.samples ?? 30);
    const driver = new DockerDriver();
    const dir = mkdtempSync(path.join(tmpdir(), 'labforge-bench-checks-'));
    const file = path.join(dir, 'check-h0');
    writeFileSync(file, CHECK, { mode: 0o755 });
    let env: Environment | undefined;
    try {
      progress('creating 8 hosts');
      env = await driver.create(
        {
          owner: `bench-checks-${randomBytes(3).toString('hex')}`,
          lab: 'bench-checks',
          labRoot: dir,
          environment: { driver: 'docker', hosts: Array.from({ length: 8 }, (_, i) => dockerHostSchema.parse({ name: `h${i}`, image: 'labforge/base' })) },
        },
        () => {},
      );
      const e = env;
      const run = (host = 'h0') => runScript(driver, e, { host, file, kind: 'check', timeoutMs: 30_000 });
      await run(); // warm-up
      progress(`bare exec (${n})`);
      const bare = await timeIt(n, () => driver.exec(e, 'h0', ['true']));
      progress(`host bash, no runner (${n})`);
      const direct = await timeIt(n, () => driver.exec(e, 'h0', ['bash', '-c', CHECK]));
      progress(`runner (${n})`);
      const runner = await timeIt(n, () => run());
      progress(`8 hosts at once (${Math.ceil(n / 3)})`);
      const eight = await timeIt(Math.ceil(n / 3), () => Promise.all(e.hosts.map((h) => run(h.name))));
      return {
        machine: machineInfo(),
        ms: { bareExec: summary(bare), hostBash: summary(direct), runner: summary(runner), eightHostsParallel: summary(eight) },
        ratios: { runnerOverBareExec: ratio(median(runner), median(bare)), runnerOverHostBash: ratio(median(runner), median(direct)) },
      };
    } finally {
      if (env) await driver.destroy(env);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
