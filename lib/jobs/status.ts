/**
 * What an operator reads of the job queue (`labforge status`): jobs per queue and state, and the
 * latest failures with why. On PostgreSQL, from pg-boss's own tables (every replica's jobs); with
 * SQLite, jobs live only inside the server process, so there is nothing to read from outside it.
 */
import type { Db } from '../db/client';
import { providerOf } from '../db/provider';

export interface JobCounts {
  queue: string;
  /** pg-boss's states: created, retry, active, completed, cancelled, failed. */
  byState: Record<string, number>;
}

export interface FailedJob {
  id: string;
  queue: string;
  attempts: number;
  error: string;
  at: string;
}

export interface JobStatus {
  /** False with SQLite: the queue is in the server's memory. */
  shared: boolean;
  queues: JobCounts[];
  failed: FailedJob[];
}

export async function jobStatus(db: Db, databaseUrl: string, failedLimit = 10): Promise<JobStatus> {
  if (providerOf(databaseUrl) !== 'postgresql') return { shared: false, queues: [], failed: [] };
  const exists = await db.$queryRawUnsafe<Array<{ t: string | null }>>(`SELECT to_regclass('pgboss.job')::text AS t`);
  if (!exists[0]?.t) return { shared: true, queues: [], failed: [] }; // no server has started on this database yet
  const counts = await db.$queryRawUnsafe<Array<{ name: string; state: string; n: number }>>(
    `SELECT name, state::text AS state, count(*)::int AS n FROM pgboss.job GROUP BY name, state ORDER BY name, state`,
  );
  const queues = new Map<string, JobCounts>();
  for (const c of counts) {
    const q = queues.get(c.name) ?? { queue: c.name, byState: {} };
    q.byState[c.state] = c.n;
    queues.set(c.name, q);
  }
  const failed = await db.$queryRawUnsafe<Array<{ id: string; name: string; retry_count: number; message: string | null; at: Date }>>(
    `SELECT id::text AS id, name, retry_count, output->>'message' AS message, completed_on AS at
       FROM pgboss.job WHERE state = 'failed' ORDER BY completed_on DESC NULLS LAST LIMIT $1`,
    failedLimit,
  );
  return {
    shared: true,
    queues: [...queues.values()],
    failed: failed.map((f) => ({ id: f.id, queue: f.name, attempts: f.retry_count + 1, error: f.message ?? '(no message)', at: new Date(f.at).toISOString() })),
  };
}
