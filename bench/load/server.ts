/**
 * The server under load: a real `labforge serve` (production Next build, the real API, terminal
 * gateway and Docker driver) on 127.0.0.1 in its own process, with a fresh data folder and only
 * the lab under test installed. With SQLite its containers carry an instance label derived from
 * that data folder (lib/runtime/start.ts, made on the database's first start), so cleanup removes
 * ours and nothing else; on a shared PostgreSQL database the label is the database's
 * (bench/replicas/cluster.ts reads it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/server';
import { sleep } from '../lib/stats';

export interface LoadServer {
  origin: string;
  port: number;
  pid: number;
  /** The label value its containers carry (labforge.instance). */
  instance: string;
  dataDir: string;
  /** SIGTERM, then SIGKILL after 30 s. Idempotent. */
  stop(): Promise<void>;
}

export interface ServerSetup {
  root: string;
  /** The lab folder to install (its slug is what learners start). */
  labDir: string;
  /** Extra environment for the server (LABFORGE_CHECK_CONCURRENCY=…, for A/B runs). */
  env: Record<string, string>;
  log: (line: string) => void;
}

export async function startLoadServer(setup: ServerSetup): Promise<LoadServer> {
  if (!fs.existsSync(path.join(setup.root, '.next', 'BUILD_ID'))) {
    throw new Error('the server needs a production build: run `npm run build` first (the bench does not build)');
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-bench-load-'));
  const labsDir = path.join(dataDir, 'labs');
  fs.mkdirSync(labsDir);
  // Only this lab: the catalog loads fast and nothing else can be started.
  fs.symlinkSync(path.resolve(setup.labDir), path.join(labsDir, path.basename(setup.labDir)));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // BENCH_CHILD_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server (as in the terminals bench).
  const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'bin/labforge.mjs', 'serve'], {
    cwd: setup.root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LABFORGE_DATA_DIR: dataDir,
      LABFORGE_LABS_DIR: labsDir,
      LABFORGE_PUBLIC_URL: origin,
      LABFORGE_LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'warn',
      // Every simulated learner comes from 127.0.0.1: the per-address limits would refuse a classroom.
      LABFORGE_RATE_LIMITS: 'create.address=0,check.address=0,token.address=0,create.learner=0,check.learner=0,token.learner=0',
      LABFORGE_POOL: '',
      ...setup.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) setup.log(`[server] ${line.slice(0, 400)}`);
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    }));
  const deadline = Date.now() + 120_000;
  // A server that never became ready takes its data folder with it: nobody else knows the folder.
  const gone = (message: string) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    return new Error(message);
  };
  for (;;) {
    if (child.exitCode !== null) throw gone(`the server exited with code ${child.exitCode} before it was ready (its stderr is above)`);
    const up = await fetch(`${origin}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw gone('the server did not answer /api/v1/health within 120 s');
    }
    await sleep(300);
  }
  const instance = crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  return { origin, port, pid: child.pid!, instance, dataDir, stop };
}
