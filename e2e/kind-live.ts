/**
 * `npm run test:kind`: the Kind driver for real, the whole lab. Creates a kind cluster with
 * Cilium for labs/cilium-multicast and runs the lab test on it (per challenge: setup, check
 * must fail, solve, check must pass, cleanup; the exam's check sends the message and grades the
 * answers), times the cluster creation, Cilium's readiness and each challenge into
 * docs/kind-live.md (kind-live-report.ts), then removes everything, also when a step failed.
 *
 * Where the machine cannot run it (no kind, no helm, no Docker, an old kernel, low inotify
 * limits: the driver's prerequisites for this lab) or the lab is absent, it prints
 * `skipped: <reason>` and exits 0: a skip is never reported as a pass. A failed run exits 1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatTable, testLab } from '../lib/authoring/labtest';
import { loadConfig } from '../lib/base/config';
import type { EnvironmentSpec, ProgressFn } from '../lib/environments/driver';
import { DockerDriver } from '../lib/environments/docker/driver';
import { resolveImage } from '../lib/environments/images/build';
import { KindDriver } from '../lib/environments/kind/driver';
import { loadLabOrThrow } from '../lib/labs/loader';
import { kindLiveMarkdown, phases, recordStep, type StepRecord } from './kind-live-report';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAB_DIR = path.join(ROOT, 'labs/cilium-multicast');
const DOC = path.join(ROOT, 'docs/kind-live.md');
const say = (s: string) => process.stdout.write(`${s}\n`);
const secs = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

/** Remembers the owners it creates (so Ctrl-C and the end can remove them) and times every progress step. */
class LiveKindDriver extends KindDriver {
  readonly owners = new Set<string>();
  readonly steps: StepRecord[] = [];
  override create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal) {
    this.owners.add(spec.owner);
    return super.create(
      spec,
      (p) => {
        recordStep(this.steps, p, Date.now());
        progress(p);
      },
      signal,
    );
  }
}

async function kindVersion(): Promise<string> {
  try {
    return (await promisify(execFile)('kind', ['version'], { timeout: 10_000 })).stdout.trim();
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

async function main(): Promise<number> {
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
  const config = loadConfig();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'labforge-kind-live-'));
  const instance = 'kind-live';
  const docker = new DockerDriver({ instance, dataDir, debianMirror: config.debianMirror, downloadMirror: config.downloadMirror });
  const driver = new LiveKindDriver({ dataDir, instance, docker, network: config.kindNetwork });
  const removeAll = async () => {
    const failures: string[] = [];
    for (const owner of driver.owners) {
      await driver.destroyOwner(owner).then(
        () => driver.owners.delete(owner),
        (e: Error) => failures.push(e.message),
      );
    }
    return failures;
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('\ninterrupted: removing the clusters this run made (Ctrl-C again to leave them)');
    void removeAll().then(() => process.exit(130));
  });
  try {
    const problems = await driver.prerequisites(env);
    if (problems.length) {
      say(`skipped: ${problems.map((p) => p.what).join('; ')}`);
      for (const p of problems) say(`  to fix: ${p.fix}`);
      return 0;
    }
    // Cluster images the driver cannot make must come from a registry now; built-in ones it builds itself.
    for (const image of env.cluster.images) {
      if (resolveImage(image) !== image || (await docker.images.imageExists(image))) continue;
      say(`pulling ${image}`);
      await docker.images.ensure(image);
    }
    const cilium = env.cluster.addons.find((a) => a.name === 'cilium');
    const date = new Date();
    say(`Testing ${lab.track.slug} (${lab.challenges.length} challenges) on a kind cluster of ${env.cluster.nodes.length} nodes`);
    const report = await testLab(lab, driver, say);
    const leftovers = await removeAll();
    say(`\n${formatTable(report)}`);
    const ph = phases(driver.steps);
    say(`cluster create ${secs(ph.clusterCreateMs)}, Cilium ready ${secs(ph.ciliumReadyMs)}`);
    writeFileSync(
      DOC,
      kindLiveMarkdown({
        date,
        kernel: os.release(),
        kind: await kindVersion(),
        cilium: cilium ? `${cilium.chart} ${cilium.version}` : 'none',
        lab: lab.track.slug,
        graded: lab.challenges.filter((c) => c.grade).map((c) => c.slug),
        steps: driver.steps,
        report,
      }),
    );
    say(`timings written to ${path.relative(ROOT, DOC)}`);
    if (leftovers.length) {
      say(`FAILED to remove everything: ${leftovers.join('; ')}`);
      return 1;
    }
    return report.ok ? 0 : 1;
  } finally {
    // Whatever happened above (an image that could not be pulled, a thrown error), nothing stays.
    const leftovers = await removeAll();
    if (leftovers.length) say(`FAILED to remove everything: ${leftovers.join('; ')}`);
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
