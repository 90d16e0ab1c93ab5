/**
 * What one phase of the replicas bench stands on: a fresh PostgreSQL database of its own (made
 * with `pg` on the server the platform uses, dropped at the end), replicas of the real server on
 * it (bench/load/server.ts), and the Docker engines whose containers and networks must all be gone
 * once its sessions stop. Read back from the database: the instance name its containers carry, which
 * replica prepared each session, on which engine, and whether it was handed over.
 */
import fs from 'node:fs';
import Dockerode from 'dockerode';
import { LABELS } from '../../lib/environments/driver';
import { TAKEN_OVER_STEP } from '../../lib/sessions/provisioning';
import { withClient, withDatabase } from '../../test/support/database';
import { waitFor } from '../../test/support/wait';
import { startLoadServer, type LoadServer } from '../load/server';
import { progress } from '../lib/stats';

/** Why the bench cannot make its databases on `server` (no answer, or a role without CREATEDB); undefined if it can. */
export async function databaseProblem(server: string): Promise<string | undefined> {
  try {
    const { rows } = await withClient(server, (c) => c.query<{ rolcreatedb: boolean }>('SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user'));
    return rows[0]?.rolcreatedb ? undefined : `the role ${new URL(server).username} may not create databases (scripts/postgres.sh grants CREATEDB)`;
  } catch (e) {
    return `no PostgreSQL at ${server.replace(/:[^:@/]*@/, ':***@')} (scripts/postgres.sh starts one): ${(e as Error).message}`;
  }
}

/** Makes an empty database on `server` (the servers migrate it when they start); its URL. */
export async function createDatabase(server: string, name: string): Promise<string> {
  await withClient(server, (c) => c.query(`CREATE DATABASE "${name}"`));
  return withDatabase(server, name);
}

/** Drops it, its connections (a killed replica's included) ended first. */
export async function dropDatabase(server: string, name: string): Promise<void> {
  await withClient(server, async (c) => {
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await c.query(`DROP DATABASE IF EXISTS "${name}"`);
  });
}

export interface Replica {
  name: string;
  server: LoadServer;
  /** Its row's id in `Replica`, once read. */
  id?: string;
}

export interface ServerLog {
  lines: number;
  warn: number;
  error: number;
  /** Startup notices about this machine and a fresh install (no admin yet, disk quotas), left out of the counts. */
  notices: number;
  /** The first few error lines, then warning lines. */
  first: string[];
}

const NOTICES = [/no admin account yet/, /Set up the first admin account/, /learner hosts' disk is not limited/];

/** Collects the replicas' log lines (warn and up, BENCH_SERVER_LOG_LEVEL) and echoes them to stderr. */
export function serverLog(): { sink: (name: string) => (line: string) => void; summary: () => ServerLog } {
  const errors: string[] = [];
  const warnings: string[] = [];
  let lines = 0;
  let notices = 0;
  const sink = (name: string) => (line: string) => {
    process.stderr.write(`[${name}] ${line}\n`);
    if (NOTICES.some((re) => re.test(line))) return void notices++;
    lines++;
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
    const text = `${name}: ${line.replace(/^\[server\] /, '').slice(0, 300)}`;
    if (level >= 50) errors.push(text);
    else if (level >= 40) warnings.push(text);
  };
  const summary = () => ({ lines, warn: warnings.length, error: errors.length, notices, first: [...errors, ...warnings].slice(0, 5) });
  return { sink, summary };
}

/** Starts the replicas together, as a rollout does: they migrate the fresh database once between them (lib/db/client.ts). */
export async function startReplicas(
  root: string,
  labDir: string,
  names: string[],
  env: Record<string, string>,
  log: (name: string) => (line: string) => void,
): Promise<Replica[]> {
  const replicas: Replica[] = [];
  try {
    const started = await Promise.allSettled(names.map((name) => startLoadServer({ root, labDir, env, log: log(name) })));
    started.forEach((r, i) => r.status === 'fulfilled' && replicas.push({ name: names[i], server: r.value }));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return replicas;
  } catch (e) {
    await stopReplicas(replicas);
    throw e;
  }
}

/** SIGTERM (SIGKILL after 30 s: startLoadServer's stop), then their data folders go. */
export async function stopReplicas(replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.server.stop()));
  for (const r of replicas) fs.rmSync(r.server.dataDir, { recursive: true, force: true });
}

/** The instance name the replicas share (the label value of their containers), and each replica's row id, matched by pid. */
export async function readCluster(url: string, replicas: Replica[]): Promise<string> {
  return withClient(url, async (c) => {
    const rows = (await c.query<{ id: string; pid: number }>('SELECT id, pid FROM "Replica"')).rows;
    for (const r of replicas) r.id = rows.find((row) => row.pid === r.server.pid)?.id ?? r.id;
    const setting = await c.query<{ value: string }>(`SELECT value FROM "Setting" WHERE key = 'instance'`);
    if (!setting.rows[0]) throw new Error('no instance name in the database (Setting "instance")');
    return setting.rows[0].value;
  });
}

export interface Placement {
  /** Sessions per replica that prepared them (`replicaId`); `none` if unclaimed. */
  byReplica: Record<string, number>;
  /** Sessions per engine (`meta.engine` of the stored environment); `default` on one engine, `none` without one. */
  byEngine: Record<string, number>;
  /** Sessions whose steps say they were started again after their replica stopped. */
  handedOver: string[];
  /** Sessions that started on a warm-pool member (their environment's owner is `pool-…`). */
  warm: number;
}

/** Where the sessions in `ids` were prepared, read from the `Session` rows (before they are stopped). */
export async function placement(url: string, replicas: Replica[], ids: string[]): Promise<Placement> {
  const rows = await withClient(
    url,
    async (c) =>
      (
        await c.query<{ id: string; replicaId: string | null; environment: string | null; progress: string }>(
          'SELECT id, "replicaId", environment, progress FROM "Session" WHERE id = ANY($1)',
          [ids],
        )
      ).rows,
  );
  const out: Placement = { byReplica: {}, byEngine: {}, handedOver: [], warm: 0 };
  const add = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  for (const row of rows) {
    add(out.byReplica, row.replicaId ? (replicas.find((r) => r.id === row.replicaId)?.name ?? `unknown ${row.replicaId}`) : 'none');
    const env = row.environment ? (JSON.parse(row.environment) as { owner: string; meta?: { engine?: string } }) : undefined;
    add(out.byEngine, env ? (env.meta?.engine ?? 'default') : 'none');
    if (env?.owner.startsWith('pool-')) out.warm++;
    const steps = JSON.parse(row.progress) as Array<{ step?: string }>;
    if (steps.some((s) => s.step === TAKEN_OVER_STEP)) out.handedOver.push(row.id);
  }
  return out;
}

export type Engines = Record<string, Dockerode>;

/** Warm-pool members waiting (made or being made), by owner: what a pooled phase may leave while its replicas run. */
export async function poolMembers(url: string): Promise<{ ready: number; owners: Set<string> }> {
  const rows = await withClient(
    url,
    async (c) => (await c.query<{ owner: string; state: string }>(`SELECT owner, state FROM "PoolMember" WHERE state <> 'claimed'`)).rows,
  );
  return { ready: rows.filter((r) => r.state === 'ready').length, owners: new Set(rows.map((r) => r.owner)) };
}

/** Containers and networks labelled with `instance`, per engine that has any, but those of owners `kept` returns. */
export async function leftovers(
  engines: Engines,
  instance: string,
  kept: () => Promise<Set<string>> = async () => new Set(),
): Promise<Record<string, { containers: string[]; networks: string[] }>> {
  const filters = { label: [`${LABELS.instance}=${instance}`] };
  const out: Record<string, { containers: string[]; networks: string[] }> = {};
  const keep = await kept();
  for (const [name, docker] of Object.entries(engines)) {
    const containers = (await docker.listContainers({ all: true, filters }))
      .filter((c) => !keep.has(c.Labels[LABELS.session]))
      .map((c) => `${c.Names[0]} (${c.State})`);
    const networks = (await docker.listNetworks({ filters })).filter((n) => !keep.has(n.Labels?.[LABELS.session] ?? '')).map((n) => n.Name);
    if (containers.length || networks.length) out[name] = { containers, networks };
  }
  return out;
}

/** Waits until nothing of `instance` is left on any engine (but what `kept` owns); ms taken. Throws, saying what is left, after `timeoutMs`. */
export async function untilNothingLeft(engines: Engines, instance: string, timeoutMs: number, kept?: () => Promise<Set<string>>): Promise<number> {
  const t = performance.now();
  const left = () => leftovers(engines, instance, kept);
  await waitFor(`nothing of instance ${instance} left`, async () => !Object.keys(await left()).length, timeoutMs, 500).catch(async () => {
    throw new Error(`LEAK: ${timeoutMs / 1000} s after every session stopped, instance ${instance} still has ${JSON.stringify(await left())}`);
  });
  return Math.round(performance.now() - t);
}

/** Force-removes whatever of `instance` is left (after a failure: the machine stays clean; the failure stands). */
export async function removeLeftovers(engines: Engines, instance: string): Promise<void> {
  const filters = { label: [`${LABELS.instance}=${instance}`] };
  for (const [name, docker] of Object.entries(engines)) {
    const drop = (e: Error) => progress(`engine ${name}: could not remove a leftover: ${e.message}`);
    for (const c of await docker.listContainers({ all: true, filters }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(drop);
    for (const n of await docker.listNetworks({ filters }).catch(() => [])) await docker.getNetwork(n.Id).remove().catch(drop);
  }
}
