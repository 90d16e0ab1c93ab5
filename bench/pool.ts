/**
 * `npm run bench -- pool` (or `tsx bench/pool.ts`): time from "start the lab"
 * to the first shell prompt, Docker driver, cold vs warm, in one run.
 *
 *  - cold: driver.create + track setup + driver.openTerminal until the prompt shows, with each
 *    creation step as the provisioning progress reports it (`partsP50Ms`);
 *  - warm: pool.claim (a pool of 1, full before each run) + openTerminal until the prompt.
 *    The pool refills in the background right after the claim, as it would in
 *    production, so the warm number includes that contention.
 *
 * Neither includes the first challenge's setup (it runs in both paths alike).
 *  - floor: the same number of containers started at once with the docker CLI (bench/lib/create-floor.ts):
 *    what the engine itself needs, the bound any cold start approaches.
 * Labs: labs/multicast-basics (8 hosts) and test/fixtures/labs/good (2 hosts).
 * JSON on stdout; progress on stderr.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Environment, EnvironmentDriver } from '../lib/environments/driver';
import type { Lab } from '../lib/labs/schema';
import { parallelCreateFloorMs } from './lib/create-floor';
import { machineInfo, percentile, progress, round, sleep } from './lib/stats';
import type { Bench, BenchOptions } from './run';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_LABS = ['labs/multicast-basics', 'test/fixtures/labs/good'];
/** A bash prompt at the end of the output: `root@workstation:~# `. */
const PROMPT = /[#$] $/;

const OPTIONS = {
  runs: 'runs per mode and lab (default 5)',
  labs: `comma list of lab folders, relative to the repo (default ${DEFAULT_LABS.join(',')})`,
};

interface Sample {
  totalMs: number;
  parts: Record<string, number>;
}

function summary(samples: Sample[]) {
  const totals = samples.map((s) => s.totalMs);
  const parts: Record<string, number> = {};
  for (const k of Object.keys(samples[0]?.parts ?? {}))
    parts[k] = round(
      percentile(
        samples.map((s) => s.parts[k]),
        50,
      ),
      1,
    );
  return {
    p50Ms: round(percentile(totals, 50), 1),
    minMs: round(Math.min(...totals), 1),
    maxMs: round(Math.max(...totals), 1),
    samplesMs: totals.map((t) => round(t, 1)),
    partsP50Ms: parts,
  };
}

/** Opens a terminal on `host` and resolves once the shell prints its prompt. */
async function untilPrompt(driver: EnvironmentDriver, env: Environment, host: string, id: string): Promise<void> {
  const term = await driver.openTerminal(env, host, { cols: 120, rows: 32, terminalId: id });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt from ${host} after 30 s; output so far: ${JSON.stringify(out.slice(-200))}`)), 30_000);
      term.onData((d) => {
        out += d;
        if (PROMPT.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      term.onExit(({ exitCode }) => {
        clearTimeout(timer);
        reject(new Error(`terminal on ${host} exited (${exitCode}) before a prompt; output: ${JSON.stringify(out.slice(-200))}`));
      });
    });
  } finally {
    await driver.closeTerminal(env, host, id).catch(() => undefined);
    await term.close();
  }
}

/** The host a learner's first terminal tab opens, else the first host. */
function firstTerminalHost(lab: Lab): string {
  const tab = lab.challenges.flatMap((c) => c.tabs).find((t) => t.type === 'terminal' && t.hostname);
  return tab?.hostname ?? lab.track.environment.hosts[0].name;
}

export async function run(options: BenchOptions = {}): Promise<object> {
  // Before the platform modules load: their info logs would mix into the JSON on stdout.
  process.env.LABFORGE_LOG_LEVEL ??= 'error';
  const [{ DockerDriver }, { createCapacity }, { WarmPool }, { loadLabOrThrow }, { Lifecycle, setupFailure }, { log }, { ownerLabels }] = await Promise.all([
    import('../lib/environments/docker/driver'),
    import('../lib/environments/capacity'),
    import('../lib/environments/pool/pool'),
    import('../lib/labs/loader'),
    import('../lib/sessions/lifecycle'),
    import('../lib/base/log'),
    import('../lib/environments/docker/resources'),
  ]);
  const runs = options.runs === undefined ? 5 : Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${String(options.runs)}`);
  const labDirs = typeof options.labs === 'string' ? options.labs.split(',').map((s) => s.trim()) : DEFAULT_LABS;

  const instance = `bench-pool-${process.pid}`;
  const driver = new DockerDriver({ instance });
  const problems = await driver.prerequisites();
  if (problems.length) throw new Error(problems.map((p) => `${p.what}: ${p.fix}`).join('; '));
  const capacity = createCapacity({ totalMemBytes: os.totalmem() });
  const prepare = async (env: Environment, lab: Lab) => {
    const r = await new Lifecycle(driver, lab, env, {}).trackSetup();
    if (!r.ok) throw new Error(setupFailure('track setup', r));
  };
  const machine = machineInfo();
  const results: object[] = [];
  let n = 0;
  const terminalId = () => `bench${process.pid}x${n++}`;

  try {
    for (const dir of labDirs) {
      const lab = await loadLabOrThrow(path.resolve(root, dir));
      const slug = lab.track.slug;
      const host = firstTerminalHost(lab);
      for (const h of new Set(lab.track.environment.hosts.map((x) => x.image))) await driver.images.ensure(h, () => undefined);

      const cold: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        const owner = `bench-${process.pid}-cold-${i}`;
        const steps: Record<string, number> = {};
        const t0 = performance.now();
        const env = await driver.create({ owner, lab: slug, labRoot: lab.root, environment: lab.track.environment }, (p) => {
          if (p.status === 'done' && p.ms !== undefined) steps[`create: ${p.step}`] = p.ms;
        });
        const t1 = performance.now();
        await prepare(env, lab);
        const t2 = performance.now();
        await untilPrompt(driver, env, host, terminalId());
        const t3 = performance.now();
        cold.push({ totalMs: t3 - t0, parts: { create: t1 - t0, ...steps, trackSetup: t2 - t1, terminal: t3 - t2 } });
        progress(`${slug} cold ${i + 1}/${runs}: ${Math.round(t3 - t0)} ms`);
        await driver.destroy(env);
      }

      const floor: number[] = [];
      for (let i = 0; i < runs; i++) {
        const image = await driver.images.ensure(lab.track.environment.hosts[0].image, () => undefined);
        const owner = `bench-${process.pid}-floor-${i}`;
        floor.push(await parallelCreateFloorMs(image, lab.track.environment.hosts.length, `lf-${owner}`, ownerLabels(owner, slug, instance)));
        progress(`${slug} floor ${i + 1}/${runs}: ${Math.round(floor[i])} ms`);
      }

      const pool = new WarmPool([{ lab, size: 1, ttlMs: 3_600_000 }], { driver, capacity, prepare, log, recycleEveryMs: 0 });
      const refused = pool.refusal(slug);
      if (refused) throw new Error(`${slug} cannot be pooled: ${refused}`);
      const warm: Sample[] = [];
      pool.fill();
      try {
        for (let i = 0; i < runs; i++) {
          await pool.untilReady(slug, 1, 600_000);
          await sleep(500); // let the last member's setup settle
          const holder = `bench-holder-${i}`;
          const t0 = performance.now();
          const env = await pool.claim(slug, holder);
          if (!env) throw new Error('the pool was empty right after untilReady');
          const t1 = performance.now();
          await untilPrompt(driver, env, host, terminalId());
          const t2 = performance.now();
          warm.push({ totalMs: t2 - t0, parts: { claim: t1 - t0, terminal: t2 - t1 } });
          progress(`${slug} warm ${i + 1}/${runs}: ${Math.round(t2 - t0)} ms`);
          await driver.destroy(env);
          capacity.release(holder);
        }
      } finally {
        await pool.stop();
      }
      const c = summary(cold);
      const w = summary(warm);
      const f = {
        p50Ms: round(percentile(floor, 50), 1),
        samplesMs: floor.map((t) => round(t, 1)),
        what: `${lab.track.environment.hosts.length} × docker run -d, in parallel`,
      };
      results.push({
        lab: slug,
        hosts: lab.track.environment.hosts.length,
        terminalHost: host,
        cold: c,
        warm: w,
        speedup: round(c.p50Ms / w.p50Ms, 1),
        parallelCreateFloor: f,
        coldOverFloor: round(c.p50Ms / f.p50Ms, 1),
      });
    }
  } finally {
    // Whatever a failed run left behind, and only ours (instance label).
    for (const found of await driver.list().catch(() => [])) await driver.destroyOwner(found.owner).catch(() => undefined);
  }
  return { bench: 'pool', driver: 'docker', runs, machine, capacity: { limitMiB: capacity.limit }, labs: results };
}

export const bench: Bench = {
  description: 'start-to-first-prompt, cold (create + track setup + terminal) vs warm pool (claim + terminal) vs the parallel-create floor, Docker driver',
  options: OPTIONS,
  run,
};

// Runnable alone: `tsx bench/pool.ts [--runs N] [--labs a,b]`.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // Not run.ts's parser: importing run.ts would start its dispatcher.
  const argv = process.argv.slice(2);
  const opts: BenchOptions = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`usage: tsx bench/pool.ts [--runs N] [--labs dir,dir]`);
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  run(opts).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: Error) => {
      process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
