/**
 * `npm run bench -- replicas`: several server processes ("replicas") on one PostgreSQL database,
 * each taking `provision` jobs from the shared queue, against one server alone. N learners
 * (default 20) start a lab of H hosts (default 2) at once through the HTTP API; each session is
 * timed from its POST to `active`, seen by polling every 250 ms. Three phases, each on a fresh
 * database of its own:
 *  1. oneReplicaOneEngine: one server, the machine's engine (the baseline);
 *  2. twoReplicasTwoEngines: two servers, both with a fleet of two engines (the machine's and a
 *     second dockerd beside it, scripts/extra-engine.sh); session i starts on replica i % 2 and is
 *     polled on the other (any replica serves any session); which replica prepared each session and
 *     on which engine, from the database;
 *  3. twoReplicasOneKilled: as 2, with a 1 s heartbeat and 3 s dead time; replica A is SIGKILLed
 *     1.5 s after the starts, everything after goes through B: how many sessions B took over from A,
 *     how many ended active, and how long that took;
 *  4. twoReplicasSharedPool: as 2, with a warm pool of N for the platform (LABFORGE_POOL): how long
 *     the replicas' pool job takes to fill it, then the N starts, and how many began on a member.
 *     The members left waiting (and the refills) are the pool's, not leaks: only the sessions'
 *     environments must go.
 * On one machine both replicas and both engines share its cores: the wall ratio of phase 2 to 1
 * shows what the replicas and the fleet cost or gain here, not a second machine's gain. Each phase
 * ends with every session stopped and nothing of its instance left on either engine (a leak after
 * 60 s fails the run). A warm-up first copies the image to the second engine. Needs root and a
 * PostgreSQL server (scripts/postgres.sh); cleans up after itself. JSON on stdout; progress on stderr.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { dockerTrack, shellChallenge } from '../test/support/sessions';
import { waitFor } from '../test/support/wait';
import { machineInfo, percentile, progress, ratio, sleep } from './lib/stats';
import {
  createDatabase,
  databaseProblem,
  dropDatabase,
  placement,
  poolMembers,
  readCluster,
  removeLeftovers,
  serverLog,
  startReplicas,
  stopReplicas,
  untilNothingLeft,
  type Engines,
  type Replica,
} from './replicas/cluster';
import { learner, stop, type Outcome } from './replicas/sessions';
import type { Bench, BenchOptions } from './run';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENGINE = 'benchreplicas';
const LAB = 'bench-replicas';
const PG_DEFAULT = 'postgresql://labforge:labforge@127.0.0.1:5432/labforge';
const LEARNER_TIMEOUT_MS = 600_000;
const LEAK_TIMEOUT_MS = 60_000;

const OPTIONS = {
  sessions: 'sessions started at once in each phase (default 20)',
  hosts: 'hosts per environment (default 2)',
  database: `PostgreSQL server to make the phases' databases on (default ${PG_DEFAULT}, scripts/postgres.sh)`,
};

interface Phase {
  /** Short name: the database's suffix. */
  tag: string;
  replicas: string[];
  /** Both engines (LABFORGE_DOCKER_ENGINES), or the machine's alone. */
  fleet: boolean;
  env?: Record<string, string>;
  sessions: number;
  /** Replica (index) session i is started on, and polled (and stopped) on. */
  startOn: (i: number) => number;
  pollOn: (i: number) => number;
  /** Replica 0 is SIGKILLed this long after the first POST (once every POST was answered). */
  killAfterMs?: number;
  /** A warm pool of `sessions` members, filled before the starts. */
  pool?: boolean;
}

interface Setup {
  pgServer: string;
  labDir: string;
  engines: Engines;
  engineUrl: string;
}

function positiveInt(o: BenchOptions, k: string, d: number): number {
  const n = o[k] === undefined ? d : Number(o[k]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer, got ${String(o[k])}`);
  return n;
}

/** A lab of `hosts` hosts of labforge/base (128 MiB each) and one challenge, in a temp folder. */
function writeLab(dir: string, hosts: number): string {
  const lab = path.join(dir, LAB);
  const names = ['workstation', ...Array.from({ length: hosts - 1 }, (_, h) => `host${h + 1}`)];
  fs.mkdirSync(path.join(lab, '01-only'), { recursive: true });
  fs.writeFileSync(path.join(lab, 'track.yml'), dockerTrack(LAB, 'Replicas bench', names, '128Mi'));
  fs.writeFileSync(path.join(lab, '01-only', 'assignment.md'), shellChallenge('only', 'Nothing to do', 'Nothing to do.'));
  for (const script of ['check-workstation', 'solve-workstation'])
    fs.writeFileSync(path.join(lab, '01-only', script), '#!/bin/bash\nexit 0\n', { mode: 0o755 });
  return lab;
}

const ms = (values: number[]) => ({
  p50: values.length ? percentile(values, 50) : null,
  p99: values.length ? percentile(values, 99) : null,
  max: values.length ? Math.max(...values) : null,
});

/** One phase on a database of its own: replicas up, N sessions at once, where they went, all stopped, nothing left. */
async function runPhase(setup: Setup, p: Phase) {
  const db = `labforge_bench_replicas_${process.pid}_${p.tag}`;
  const env: Record<string, string> = { ...p.env };
  if (p.fleet) env.LABFORGE_DOCKER_ENGINES = `a=unix:///var/run/docker.sock b=${setup.engineUrl}`;
  if (p.pool) env.LABFORGE_POOL = `${LAB}=${p.sessions}`;
  const logs = serverLog();
  let replicas: Replica[] = [];
  let instance: string | undefined;
  try {
    const url = await createDatabase(setup.pgServer, db);
    progress(`${p.tag}: ${p.replicas.length} replica(s) on database ${db}${p.fleet ? ', two engines' : ''}`);
    replicas = await startReplicas(root, setup.labDir, p.replicas, { DATABASE_URL: url, ...env }, logs.sink);
    instance = await readCluster(url, replicas);
    const origin = (i: number) => replicas[i].server.origin;
    let poolFillMs: number | undefined;
    if (p.pool) {
      const t = performance.now();
      progress(`${p.tag}: waiting for the pool to fill (${p.sessions} members)`);
      await waitFor('the pool to fill', async () => (await poolMembers(url)).ready >= p.sessions, LEARNER_TIMEOUT_MS, 500);
      poolFillMs = Math.round(performance.now() - t);
    }

    progress(`${p.tag}: ${p.sessions} sessions start at once`);
    let posted = 0;
    let allPosted: () => void = () => undefined;
    const postsDone = new Promise<void>((resolve) => (allPosted = resolve));
    const t0 = performance.now();
    const running = Array.from({ length: p.sessions }, (_, i) =>
      learner(i, {
        lab: LAB,
        startOn: origin(p.startOn(i)),
        pollOn: origin(p.pollOn(i)),
        timeoutMs: LEARNER_TIMEOUT_MS,
        posted: () => ++posted === p.sessions && allPosted(),
      }),
    );
    let killedAtMs: number | undefined;
    if (p.killAfterMs !== undefined) {
      await postsDone;
      await sleep(Math.max(0, t0 + p.killAfterMs - performance.now()));
      killedAtMs = Math.round(performance.now() - t0);
      progress(`${p.tag}: SIGKILL to replica ${replicas[0].name} (pid ${replicas[0].server.pid}) ${killedAtMs} ms after the first POST`);
      process.kill(replicas[0].server.pid, 'SIGKILL');
      await replicas[0].server.stop(); // resolves once it has exited
    }
    const outcomes: Outcome[] = await Promise.all(running);
    const active = outcomes.filter((o) => o.status === 'active');
    const wallMs = active.length ? Math.round(Math.max(...active.map((o) => o.activeAt!)) - t0) : null;
    progress(`${p.tag}: ${active.length}/${p.sessions} active${wallMs === null ? '' : ` in ${wallMs} ms`}`);

    await readCluster(url, replicas); // a row read late (ids only fill gaps)
    const ids = outcomes.flatMap((o) => (o.id ? [o.id] : []));
    const where = await placement(url, replicas, ids);
    const handedOver = outcomes.filter((o) => o.id && where.handedOver.includes(o.id));

    progress(`${p.tag}: stopping every session, then waiting until nothing of instance ${instance} is left`);
    const stopErrors = (await Promise.all(outcomes.map((o) => stop(origin(p.pollOn(o.i)), o)))).filter(Boolean);
    const cleanupMs = await untilNothingLeft(setup.engines, instance, LEAK_TIMEOUT_MS, p.pool ? async () => (await poolMembers(url)).owners : undefined);
    const failed = outcomes.filter((o) => o.status !== 'active');
    const count = (status: string) => outcomes.filter((o) => o.status === status).length;
    return {
      replicas: p.replicas,
      serverEnv: { DATABASE_URL: url.replace(/:[^:@/]*@/, ':***@'), ...env },
      instance,
      wallMs,
      timeToActiveMs: ms(active.map((o) => o.toActiveMs!)),
      active: active.length,
      failed: failed.length,
      outcomes: { failed: count('failed'), timeout: count('timeout'), startFailed: count('start-failed') },
      firstErrors: [...new Set(failed.map((o) => `${o.status}: ${o.error ?? '(no message)'}`))].slice(0, 3),
      spread: { byReplica: where.byReplica, byEngine: where.byEngine },
      ...(p.pool ? { pool: { fillMs: poolFillMs, startedWarm: where.warm } } : {}),
      ...(killedAtMs === undefined
        ? {}
        : {
            killed: { replica: replicas[0].name, atMs: killedAtMs },
            handedOver: {
              sessions: handedOver.length,
              active: handedOver.filter((o) => o.status === 'active').length,
              activeAfterKillMs: ms(handedOver.filter((o) => o.activeAt).map((o) => Math.round(o.activeAt! - t0 - killedAtMs!))),
            },
          }),
      stopErrors: stopErrors.slice(0, 3),
      cleanupMs,
      serverLog: logs.summary(),
    };
  } finally {
    await stopReplicas(replicas);
    if (instance) await removeLeftovers(setup.engines, instance);
    await dropDatabase(setup.pgServer, db).catch((e: Error) => progress(`${p.tag}: could not drop ${db}: ${e.message}`));
  }
}

export const bench: Bench = {
  description:
    'N sessions at once through one server, then two replicas on one PostgreSQL with two engines, then with one replica SIGKILLed mid-way, then with a shared warm pool of N',
  options: OPTIONS,
  async run(options: BenchOptions) {
    const n = positiveInt(options, 'sessions', 20);
    const hosts = positiveInt(options, 'hosts', 2);
    const pgServer = typeof options.database === 'string' ? options.database : PG_DEFAULT;
    const problem = await databaseProblem(pgServer);
    if (problem) return { skipped: problem };
    const script = path.join(root, 'scripts/extra-engine.sh');
    const up = spawnSync('bash', [script, 'start', ENGINE, '10.218.0.0/16'], { encoding: 'utf8' });
    if (up.status !== 0) return { skipped: `a second engine could not start: ${up.stderr.trim()}` };
    const machine = machineInfo();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-bench-replicas-'));
    try {
      const engineUrl = up.stdout.trim();
      const engines = { a: new Dockerode(), b: new Dockerode({ socketPath: engineUrl.replace(/^unix:\/\//, '') }) };
      const setup: Setup = { pgServer, labDir: writeLab(dir, hosts), engines, engineUrl };
      const both = { replicas: ['a', 'b'], fleet: true, sessions: n, startOn: (i: number) => i % 2 };
      const fast = { LABFORGE_REPLICA_HEARTBEAT_SECONDS: '1', LABFORGE_REPLICA_DEAD_SECONDS: '3' };

      progress('warming up: one session per engine (the second engine copies the image from the first)');
      const warm = await runPhase(setup, { tag: 'warmup', replicas: ['a'], fleet: true, sessions: 2, startOn: () => 0, pollOn: () => 0 });
      if (!warm.spread.byEngine.b) progress(`warm-up: engine b prepared no session (${JSON.stringify(warm.spread.byEngine)}): phase 2 pays its image copy`);
      const one = await runPhase(setup, { tag: 'one', replicas: ['a'], fleet: false, sessions: n, startOn: () => 0, pollOn: () => 0 });
      const two = await runPhase(setup, { tag: 'two', ...both, pollOn: (i) => (i + 1) % 2 });
      const killed = await runPhase(setup, { tag: 'killed', ...both, env: fast, pollOn: () => 1, killAfterMs: 1500 });
      const pooled = await runPhase(setup, { tag: 'pooled', ...both, pollOn: (i) => (i + 1) % 2, pool: true });
      return {
        bench: 'replicas',
        machine,
        sessions: n,
        hostsEach: hosts,
        warmUpMs: warm.wallMs,
        warmUp: { active: warm.active, byEngine: warm.spread.byEngine },
        oneReplicaOneEngine: one,
        twoReplicasTwoEngines: two,
        twoReplicasOneKilled: killed,
        twoReplicasSharedPool: pooled,
        wallRatioTwoReplicasToOne: ratio(two.wallMs ?? undefined, one.wallMs ?? undefined),
        wallRatioPooledToCold: ratio(pooled.wallMs ?? undefined, two.wallMs ?? undefined),
      };
    } finally {
      spawnSync('bash', [script, 'stop', ENGINE, '--purge'], { stdio: 'inherit' });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
