/**
 * `npm run test:kind`: the Kind driver for real. Creates a kind cluster with
 * Cilium for labs/cilium-multicast and runs the lab test on it (per challenge:
 * setup, check must fail, solve, check must pass), then removes everything.
 *
 * Where the machine cannot run it (no kind, no helm, old kernel, low inotify
 * limits, no Docker) or the lab is absent, it prints `skipped: <reason>` and
 * exits 0: a skip is never reported as a pass. A failed run exits 1.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, testLab } from '../lib/authoring/labtest';
import type { EnvironmentSpec, ProgressFn } from '../lib/environments/driver';
import { KindDriver } from '../lib/environments/kind/driver';
import { loadLabOrThrow } from '../lib/labs/loader';

const LAB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../labs/cilium-multicast');
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Remembers the owners it creates, so Ctrl-C can still remove the cluster. */
class LiveKindDriver extends KindDriver {
  readonly owners = new Set<string>();
  override create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal) {
    this.owners.add(spec.owner);
    return super.create(spec, progress, signal);
  }
}

async function main(): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'labforge-kind-live-'));
  const driver = new LiveKindDriver({ dataDir, instance: 'kind-live' });
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('\ninterrupted: removing the clusters this run made (Ctrl-C again to leave them)');
    void Promise.allSettled([...driver.owners].map((o) => driver.destroyOwner(o))).then(() => process.exit(130));
  });
  try {
    const problems = await driver.prerequisites();
    if (problems.length) {
      say(`skipped: ${problems.map((p) => p.what).join('; ')}`);
      for (const p of problems) say(`  to fix: ${p.fix}`);
      return 0;
    }
    if (!existsSync(path.join(LAB_DIR, 'track.yml'))) {
      say('skipped: labs/cilium-multicast not present');
      return 0;
    }
    const lab = await loadLabOrThrow(LAB_DIR);
    const env = lab.track.environment;
    if (env.driver !== 'kind') {
      say(`FAILED: labs/cilium-multicast uses the "${env.driver}" driver, not kind`);
      return 1;
    }
    // Cluster images come from the local engine (kind load): pull what is missing first.
    for (const image of env.cluster.images) {
      if (await driver.docker.images.imageExists(image)) continue;
      say(`pulling ${image}`);
      await driver.docker.images.ensure(image);
    }
    say(`Testing ${lab.track.slug} (${lab.challenges.length} challenges) on a kind cluster of ${env.cluster.nodes.length} nodes`);
    const report = await testLab(lab, driver, say);
    say(`\n${formatTable(report)}`);
    return report.ok ? 0 : 1;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    say(`FAILED: ${err.message}`);
    process.exit(1);
  },
);
