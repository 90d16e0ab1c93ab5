/**
 * `labforge status [--json]`: the replicas of this platform's database (live or gone, where they are
 * reached, how many sessions each is preparing), its job queue (jobs per queue and state, the
 * latest failures and why), the shared warm pool's members, and the outboxes (webhook deliveries
 * and LTI score passbacks: waiting, retrying, delivered, given up, the latest failing and why).
 * Reads the database the server uses (DATABASE_URL).
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../lib/base/config';
import { PoolLedger } from '../../lib/environments/pool/ledger';
import { jobStatus, type JobStatus } from '../../lib/jobs/status';
import { failingItems, outboxCounts, type FailingItem, type OutboxCounts } from '../../lib/webhooks/outbox-status';
import { listReplicas, type ReplicaRow } from '../../lib/replicas/registry';
import type { Db } from '../../lib/db/client';
import { usageMistake } from './args';
import { openDatabase } from './database';

export const USAGE = 'usage: labforge status [--json]';
const TOOL = { name: 'status', usage: USAGE };

/** Exit 0; 2 for a usage mistake. `open` and `config`: the database and its settings (tests pass theirs). */
export async function run(
  args: string[],
  open: () => Promise<Db> = openDatabase,
  config: Pick<Config, 'databaseUrl' | 'replicaDeadMs'> = loadConfig(),
): Promise<number> {
  let json: boolean;
  try {
    const parsed = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
    json = parsed.values.json;
  } catch (e) {
    return usageMistake(TOOL, (e as Error).message);
  }
  const db = await open();
  try {
    const replicas = await listReplicas(db, config.replicaDeadMs);
    const jobs = await jobStatus(db, config.databaseUrl);
    const pool = await new PoolLedger(db).counts();
    const deliveries = { counts: await outboxCounts(db), failing: await failingItems(db) };
    const status: Status = { replicas, jobs, pool, deliveries };
    process.stdout.write(json ? `${JSON.stringify(status, null, 2)}\n` : text(status));
    return 0;
  } finally {
    await db.$disconnect();
  }
}

interface Status {
  replicas: ReplicaRow[];
  jobs: JobStatus;
  /** The shared warm pool (replicas on PostgreSQL); one server's pool lives in its memory. */
  pool: Array<{ lab: string; state: string; count: number }>;
  deliveries: { counts: OutboxCounts[]; failing: FailingItem[] };
}

function text({ replicas, jobs, pool, deliveries }: Status): string {
  const lines = [`Replicas (${replicas.filter((r) => r.live).length} live):`];
  if (!replicas.length) lines.push('  none: no server has started on this database yet');
  for (const r of replicas) {
    const state = r.live ? 'live' : `gone (last seen ${r.seenAt})`;
    lines.push(`  ${r.id}  ${state.padEnd(4)}  ${r.host} pid ${r.pid}${r.url ? `  ${r.url}` : ''}  since ${r.startedAt}  preparing ${r.preparing}`);
  }
  lines.push('', 'Jobs:');
  if (!jobs.shared) lines.push('  in the server process (SQLite): nothing to read from outside it; see GET /metrics, labforge_jobs');
  else if (!jobs.queues.length) lines.push('  none yet');
  for (const q of jobs.queues)
    lines.push(
      `  ${q.queue.padEnd(10)} ${Object.entries(q.byState)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}`,
    );
  if (jobs.failed.length) {
    lines.push('', 'Latest failed jobs:');
    for (const f of jobs.failed) lines.push(`  ${f.at}  ${f.queue}  ${f.id}  after ${f.attempts} attempt(s): ${f.error}`);
  }
  lines.push('', 'Warm pool:');
  if (!jobs.shared) lines.push('  in the server process (SQLite): see GET /metrics, labforge_pool_environments');
  else if (!pool.length) lines.push('  no members (LABFORGE_POOL sets the pooled labs)');
  for (const lab of new Set(pool.map((p) => p.lab)))
    lines.push(
      `  ${lab.padEnd(24)} ${pool
        .filter((p) => p.lab === lab)
        .map((p) => `${p.state} ${p.count}`)
        .join(', ')}`,
    );
  lines.push('', 'Deliveries:');
  for (const c of deliveries.counts)
    lines.push(`  ${c.outbox.padEnd(10)} waiting ${c.waiting}, retrying ${c.retrying}, delivered ${c.delivered}, given up ${c.givenUp}`);
  if (deliveries.failing.length) {
    lines.push('', 'Latest failing deliveries:');
    for (const f of deliveries.failing) {
      const next = f.nextAttemptAt ? `next attempt ${f.nextAttemptAt}` : 'given up';
      lines.push(`  ${f.outbox}  #${f.id}  to ${f.to}  after ${f.attempts} attempt(s), ${next}: ${f.error}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
