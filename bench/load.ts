/**
 * `npm run bench -- load`: N simulated learners at once against a real server, for each N of
 * `--learners` (default 1,10,30). Each learner starts the lab through the HTTP API, waits
 * until active, opens its terminal with the real browser client, waits for the prompt, types
 * (echo), runs a command with output and presses Check, then stops (bench/load/learner.ts).
 * Per N: start to first prompt, echo and Check latency (p50/p99), the server's RSS (peak, and
 * at the end once every session stopped), the containers' and the engine's memory and CPU,
 * queued and refused learners; and each figure's growth against the smallest N.
 *
 * Loopback only; one server for the whole run (fresh data folder, only the lab under test);
 * bounded by `--learner-timeout` and `--timeout`; on failure or Ctrl-C every session is
 * stopped, the server is stopped and whatever is left with our instance label is removed.
 * `--plot FILE` writes an SVG of the figures against N. Per N the engine's own floor is measured
 * too, once the level's containers are gone: as many containers as N environments have, started
 * at once with nothing of ours (bench/lib/create-floor.ts), so start-to-prompt reads against it.
 */
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, progress, rssBytes, sleep } from './lib/stats';
import type { Bench, BenchOptions } from './run';
import { Barrier } from './load/barrier';
import { EngineSampler, allContainerIds } from './load/engine';
import { runLearner, type LearnerResult } from './load/learner';
import { loadSvg } from './load/plot';
import { startLoadServer, type LoadServer } from './load/server';
import { growth, summarize, type LevelSummary } from './load/summary';
import { parallelEnvironmentsFloorMs } from './lib/create-floor';
import { metricSample } from '../test/support/metrics';
import { waitFor } from '../test/support/wait';
import { LABELS } from '../lib/environments/driver';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const OPTIONS = {
  learners: 'comma list of learner counts, one load level each (default 1,10,30)',
  lab: 'lab slug under labs/, or a lab folder (default multicast-basics; test/fixtures/labs/good is a 2-host lab)',
  'echo-samples': 'keystrokes timed per learner (default 20)',
  'output-bytes': "bytes of the command's output per learner (default 262144)",
  'learner-timeout': 'seconds one learner may take from start to stop (default 600)',
  timeout: 'seconds for the whole run before everything is stopped (default 2700)',
  'server-env': 'extra server environment, e.g. LABFORGE_CHECK_CONCURRENCY=1000,LABFORGE_PROVISION_CONCURRENCY=1000 (A/B runs)',
  plot: 'write an SVG of the figures against N to this file (e.g. docs/images/load.svg)',
  pool: 'warm pool: the server keeps this many environments of the lab ready (LABFORGE_POOL=<lab>=N), and each level starts once min(N, pool) are ready (default 0: every start is cold)',
  floor: "per N, the engine's floor: N environments' containers started at once through the Engine API, nothing of ours (default true; false skips it)",
};

function intList(v: string | boolean | undefined, d: number[]): number[] {
  if (v === undefined) return d;
  const list = String(v)
    .split(',')
    .map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--learners must be a comma list of positive integers, got ${String(v)}`);
  return list;
}

function num(o: BenchOptions, k: string, d: number): number {
  const v = o[k];
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number, got ${String(v)}`);
  return n;
}

function serverEnv(v: string | boolean | undefined): Record<string, string> {
  if (v === undefined || v === true) return {};
  const env: Record<string, string> = {};
  for (const pair of String(v).split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--server-env: "${pair}" should look like NAME=value`);
    env[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return env;
}

function labDir(lab: string): string {
  const asPath = path.resolve(root, lab);
  if (lab.includes('/') && fs.existsSync(path.join(asPath, 'track.yml'))) return asPath;
  const inLabs = path.join(root, 'labs', lab);
  if (fs.existsSync(path.join(inLabs, 'track.yml'))) return inLabs;
  throw new Error(`--lab ${lab}: no track.yml in labs/${lab} or ${lab}`);
}

/** Samples the server's RSS every 250 ms; peak() since the last reset. */
function rssSampler(pid: number) {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid) ?? 0)), 250);
  return {
    reset: () => (peak = rssBytes(pid) ?? 0),
    peak: () => Math.max(peak, rssBytes(pid) ?? 0),
    stop: () => clearInterval(timer),
  };
}

/**
 * Waits until at most `keep` of our containers are left (sessions stopped destroy theirs; a warm
 * pool's members stay); ms taken, or null if more remain.
 */
async function untilContainersAtMost(instance: string, keep: number, timeoutMs: number): Promise<number | null> {
  const t = performance.now();
  const few = async () => ((await allContainerIds(instance).catch(() => null))?.length ?? Infinity) <= keep;
  return waitFor(`at most ${keep} containers`, few, timeoutMs, 1000).then(
    () => performance.now() - t,
    () => null,
  );
}

/** Removes whatever carries our instance label, through the driver that made it (containers, networks, volumes). */
async function removeLeftovers(instance: string): Promise<number> {
  const { DockerDriver } = await import('../lib/environments/docker/driver');
  const driver = new DockerDriver({ instance });
  const left = await driver.list().catch(() => []);
  for (const env of left) await driver.destroyOwner(env.owner).catch((e: Error) => progress(`could not remove ${env.owner}: ${e.message}`));
  return left.length;
}

/** Waits until `want` members of the lab's warm pool are ready (the server's /metrics, open to this machine); ms taken. */
async function untilPoolReady(origin: string, slug: string, want: number, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const t = performance.now();
  let ready = 0;
  const full = async () => {
    if (signal.aborted) throw new Error(String(signal.reason));
    const text = await fetch(`${origin}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    ready = metricSample(text, `labforge_pool_environments{lab="${slug}",state="ready"}`) ?? 0;
    return ready >= want;
  };
  await waitFor(`${want} ready environments in the warm pool`, full, timeoutMs, 1000).catch((e: Error) => {
    throw new Error(`${e.message} (${ready} were ready)`);
  });
  return performance.now() - t;
}

/** N environments of the lab's size started at once by the engine alone, and how start-to-prompt compares. */
async function engineFloor(n: number, instance: string, shape: { image: string; hosts: number }): Promise<LevelSummary['engineFloor']> {
  progress(`N=${n}: the engine's floor (${n * shape.hosts} containers at once)`);
  const { DockerDriver } = await import('../lib/environments/docker/driver');
  const image = await new DockerDriver({ instance }).images.ensure(shape.image, () => undefined);
  const ms = await parallelEnvironmentsFloorMs(image, n, shape.hosts, `lf-floor-${instance}`, { [LABELS.managed]: '1', [LABELS.instance]: instance });
  return { environments: n, containers: n * shape.hosts, allRunningMs: Math.round(ms) };
}

export async function run(options: BenchOptions = {}): Promise<object> {
  const levels = intList(options.learners, [1, 10, 30]);
  const dir = labDir(typeof options.lab === 'string' ? options.lab : 'multicast-basics');
  const echoSamples = num(options, 'echo-samples', 20);
  const outputBytes = num(options, 'output-bytes', 262_144);
  const learnerTimeoutMs = num(options, 'learner-timeout', 600) * 1000;
  const totalTimeoutMs = num(options, 'timeout', 2700) * 1000;
  const env = serverEnv(options['server-env']);
  const pool = options.pool === undefined || String(options.pool) === '0' ? 0 : Math.floor(num(options, 'pool', 1));

  // What fits: the server admits environments by memory (lib/environments/capacity.ts); past it learners queue for room.
  const [{ loadLabOrThrow }, { labMemoryMiB, defaultCapacity }] = await Promise.all([import('../lib/labs/loader'), import('../lib/environments/capacity')]);
  const lab = await loadLabOrThrow(dir);
  const slug = lab.track.slug;
  if (pool) env.LABFORGE_POOL = `${slug}=${pool}`;
  const maxEnv = env.LABFORGE_MAX_ENVIRONMENTS ?? process.env.LABFORGE_MAX_ENVIRONMENTS;
  const labMiB = labMemoryMiB(lab);
  const limitMiB = maxEnv ? undefined : defaultCapacity(os.totalmem(), Number(env.LABFORGE_CAPACITY_RESERVE ?? 0.25));
  const fits = maxEnv ? Number(maxEnv) : Math.max(1, Math.floor(limitMiB! / labMiB));
  const capacity = { labHosts: lab.track.environment.hosts.length, labMemoryMiB: labMiB, limitMiB, environmentsThatFit: fits };
  const floorShape = { image: lab.track.environment.hosts[0].image, hosts: capacity.labHosts };
  progress(`lab ${slug}: ${capacity.labHosts} hosts, ${labMiB} MiB declared; about ${fits} environments fit at once`);
  for (const n of levels) if (n > fits) progress(`N=${n}: ${n - fits} learners will wait for room until others stop (over capacity)`);

  const total = new AbortController();
  setMaxListeners(0, total.signal); // every learner listens to it: a classroom, not a leak
  const totalTimer = setTimeout(() => total.abort(new Error(`the whole run took longer than ${totalTimeoutMs / 1000} s`)), totalTimeoutMs);
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130); // a second Ctrl-C: no more waiting for cleanup
    progress('interrupted: stopping the learners, then the server; Ctrl-C again to leave without cleaning up');
    total.abort(new Error('interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSigint);

  const machine = machineInfo();
  const summaries: LevelSummary[] = [];
  const raw: Record<string, LearnerResult[]> = {};
  let server: LoadServer | undefined;
  let sampler: EngineSampler | undefined;
  let leftovers = 0;
  let failure: string | undefined;
  try {
    progress('starting the server (production build, 127.0.0.1)');
    server = await startLoadServer({ root, labDir: dir, env, log: (l) => process.stderr.write(`${l}\n`) });
    progress(`server pid ${server.pid} on ${server.origin}, instance ${server.instance}`);
    sampler = new EngineSampler(server.instance);
    await sampler.start();
    const rss = rssSampler(server.pid);
    try {
      for (const n of levels) {
        if (total.signal.aborted) break;
        let poolFillMs: number | undefined;
        if (pool) {
          progress(`N=${n}: waiting for ${Math.min(n, pool)} warm environment(s) in the pool`);
          poolFillMs = await untilPoolReady(server.origin, slug, Math.min(n, pool), 600_000, total.signal);
        }
        progress(`N=${n}: ${n} learner(s) start ${slug} at once`);
        rss.reset();
        const since = performance.now();
        // Everyone types, then everyone checks, then everyone stops, together: those steps are measured
        // under N at once, not beside someone's provisioning or teardown. A learner that cannot come
        // leaves the barriers (failed, timed out, or waiting for room until others stop).
        const echoBarrier = new Barrier(n, learnerTimeoutMs);
        const outputBarrier = new Barrier(n, learnerTimeoutMs);
        const checkBarrier = new Barrier(n, learnerTimeoutMs);
        const stopBarrier = new Barrier(n, learnerTimeoutMs);
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => {
            // A controller of its own, not AbortSignal.any over AbortSignal.timeout: Node 20 may collect
            // that combination's timer, and the learner then runs on past its limit.
            const own = new AbortController();
            const timer = setTimeout(() => own.abort(new Error(`learner ${i + 1} took longer than ${learnerTimeoutMs / 1000} s`)), learnerTimeoutMs);
            const onTotal = () => own.abort(total.signal.reason);
            total.signal.addEventListener('abort', onTotal, { once: true });
            const signal = own.signal;
            const plan = {
              origin: server!.origin,
              port: server!.port,
              lab: slug,
              echoSamples,
              outputBytes,
              echoBarrier,
              outputBarrier,
              checkBarrier,
              stopBarrier,
              signal,
              log: progress,
            };
            return runLearner(i + 1, plan).finally(() => {
              clearTimeout(timer);
              total.signal.removeEventListener('abort', onTotal);
            });
          }),
        );
        const wallMs = performance.now() - since;
        const rssPeak = rss.peak();
        progress(`N=${n}: learners done in ${Math.round(wallMs / 1000)} s; waiting for their containers to go`);
        const cleanupMs = await untilContainersAtMost(server.instance, pool * capacity.labHosts, 180_000);
        await sleep(2000); // let the server settle before reading its RSS "at the end"
        const s = summarize(results, sampler.since(since), { rssPeak, rssEnd: rssBytes(server.pid) }, wallMs, cleanupMs);
        if (pool) s.pool = { size: pool, fillSeconds: Math.round(poolFillMs! / 100) / 10 };
        if (options.floor !== 'false' && !total.signal.aborted) {
          // A floor the engine cannot make (e.g. out of network address pools) is reported; the level's figures stay.
          s.engineFloor = await engineFloor(n, server.instance, floorShape).catch((e: Error) => {
            progress(`N=${n}: no engine floor: ${e.message}`);
            return { environments: n, containers: n * floorShape.hosts, error: e.message };
          });
        }
        summaries.push(s);
        raw[`N=${n}`] = results;
        progress(
          `N=${n}: ${s.outcomes.done} done, ${s.outcomes.refused} refused, ${s.outcomes.failed} failed, ${s.outcomes.timeout} timed out; ` +
            `prompt p50 ${s.ms.startToPrompt.p50} ms, echo p50 ${s.ms.echo.p50} ms, check p50 ${s.ms.check.p50} ms`,
        );
      }
    } finally {
      rss.stop();
    }
  } catch (e) {
    failure = (e as Error).message;
    progress(`load bench failed: ${failure}`);
  } finally {
    clearTimeout(totalTimer);
    sampler?.stop();
    if (server) {
      progress('stopping the server');
      await server.stop();
      leftovers = await removeLeftovers(server.instance);
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    }
    process.off('SIGINT', onSigint);
  }

  const plot = typeof options.plot === 'string' ? path.resolve(options.plot) : undefined;
  if (plot && summaries.length) {
    fs.mkdirSync(path.dirname(plot), { recursive: true });
    fs.writeFileSync(plot, loadSvg(summaries, `${slug} under load: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 1024 ** 3)} GiB`));
    progress(`plot written to ${path.relative(process.cwd(), plot)}`);
  }
  return {
    bench: 'load',
    lab: slug,
    machine,
    serverEnv: env,
    capacity,
    interrupted: total.signal.aborted ? String((total.signal.reason as Error)?.message ?? total.signal.reason) : undefined,
    failure,
    levels: summaries,
    growth: growth(summaries),
    /** Environments the driver still found with our label after the server stopped, and removed. */
    leftoversRemoved: leftovers,
    perLearner: Object.fromEntries(
      Object.entries(raw).map(([k, rs]) => [
        k,
        rs.map((r) => ({
          learner: r.learner,
          outcome: r.outcome,
          queuedForRoom: r.queuedForRoom,
          maxTurnPosition: r.maxTurnPosition,
          startToActiveMs: r.startToActiveMs && Math.round(r.startToActiveMs),
          startToPromptMs: r.startToPromptMs && Math.round(r.startToPromptMs),
          checkMs: r.checkMs && Math.round(r.checkMs),
          error: r.error,
        })),
      ]),
    ),
  };
}

export const bench: Bench = {
  description: 'N learners at once against a real server: start to prompt, echo and Check latency, server RSS, engine memory and CPU, per N',
  options: OPTIONS,
  run,
};
