/**
 * `labforge status [--json]`: the replicas of this platform's database (live or gone, where they are
 * reached, how many sessions each is preparing) and its job queue (jobs per queue and state, the
 * latest failures and why). Reads the database the server uses (DATABASE_URL).
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../lib/base/config';
import { jobStatus, type JobStatus } from '../../lib/jobs/status';
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
    if (json) process.stdout.write(`${JSON.stringify({ replicas, jobs }, null, 2)}\n`);
    else process.stdout.write(text(replicas, jobs));
    return 0;
  } finally {
    await db.$disconnect();
  }
}

function text(replicas: ReplicaRow[], jobs: JobStatus): string {
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
  return `${lines.join('\n')}\n`;
}
