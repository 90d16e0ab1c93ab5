/**
 * The job queue in PostgreSQL through pg-boss (lib/jobs/pg-boss.ts), where two queues on one
 * database stand for two replicas: every job runs once across them, a throw is retried, a job
 * handed back (its replica gone) runs again elsewhere, and each replica runs at most its
 * concurrency at once. Runs in the `postgres` lane only; without its server it says `skipped:`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/commands/status';
import { log } from '../../lib/base/log';
import { createDb } from '../../lib/db/client';
import { PgBossQueue } from '../../lib/jobs/pg-boss';
import type { JobInfo } from '../../lib/jobs/queue';
import { databaseForThisFile, testServerUrl } from '../support/database';
import { captured } from '../support/cli';
import { waitFor } from '../support/wait';

const server = testServerUrl();

describe.skipIf(!server)('PgBossQueue: two replicas on one database', () => {
  const t = databaseForThisFile('jobs');
  let a: PgBossQueue;
  let b: PgBossQueue;

  beforeAll(async () => {
    a = await PgBossQueue.connect(t.url, log);
    b = await PgBossQueue.connect(t.url, log);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('replicas starting together make their queues without a deadlock', async () => {
    // pg-boss's createQueue from two processes at once deadlocked in PostgreSQL (seen when the
    // bench started two replicas on a new database); they take turns now.
    const names = ['setup-a', 'setup-b', 'setup-c', 'setup-d'];
    await Promise.all([a, b].flatMap((q) => names.map((n, i) => q.work(n, async () => {}, { concurrency: 1, periodic: i > 0 }))));
    expect(new Set((await a.depth()).map((d) => d.queue))).toEqual(new Set([...names]));
  });

  it('runs each job exactly once across replicas, each replica within its concurrency', async () => {
    const ran: Array<{ n: number; by: string; attempt: number }> = [];
    const running = { a: 0, b: 0 };
    let most = 0;
    const handler = (by: 'a' | 'b') => async (data: { n: number }, job: JobInfo) => {
      running[by]++;
      most = Math.max(most, running[by]);
      await new Promise((r) => setTimeout(r, 50));
      ran.push({ n: data.n, by, attempt: job.attempt });
      running[by]--;
    };
    await a.work('once', handler('a'), { concurrency: 3 });
    await b.work('once', handler('b'), { concurrency: 3 });
    for (let n = 0; n < 20; n++) await (n % 2 ? a : b).send('once', { n });
    await waitFor('20 jobs to run', () => ran.length >= 20, 30_000, 50);
    await new Promise((r) => setTimeout(r, 1500)); // a second run would show within a poll
    expect(ran.map((r) => r.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(ran.every((r) => r.attempt === 1)).toBe(true);
    expect(most).toBeLessThanOrEqual(3);
    expect(new Set(ran.map((r) => r.by)).size).toBe(2); // both replicas took some
  });

  it('retries a job whose handler throws, with the attempt counted', async () => {
    const attempts: number[] = [];
    await a.work(
      'flaky',
      async (_data, job) => {
        attempts.push(job.attempt);
        if (job.attempt === 1) throw new Error('the engine said no');
      },
      { concurrency: 1 },
    );
    await a.send('flaky', {});
    await waitFor('the retry', () => attempts.length >= 2, 20_000, 50);
    expect(attempts).toEqual([1, 2]);
  });

  it('a job handed back while active (its replica gone) runs again on the other', async () => {
    const started: Array<{ by: string; attempt: number; id: string }> = [];
    // a takes the job and never finishes it: a replica that died mid-job.
    await a.work(
      'handover',
      (_d, job) => {
        started.push({ by: 'a', ...job });
        return new Promise<void>(() => {});
      },
      { concurrency: 1 },
    );
    const id = await a.send('handover', {});
    await waitFor('a to take the job', () => started.length === 1, 10_000, 20);
    expect(await a.depth()).toContainEqual({ queue: 'handover', queued: 0, active: 1 });
    await b.work(
      'handover',
      async (_d, job) => {
        started.push({ by: 'b', ...job });
      },
      { concurrency: 1 },
    );
    expect(await b.pending('handover', id)).toBe(true);
    await b.retry('handover', id, 'replica a stopped');
    await waitFor('b to take the job over', () => started.length === 2, 20_000, 50);
    await waitFor('the job to be done', async () => !(await b.pending('handover', id)), 10_000, 50);
    expect(await a.pending('handover', 'b4c1f9a0-0000-4000-8000-000000000000')).toBe(false); // unknown
    expect(started).toEqual([
      { by: 'a', id, attempt: 1, attempts: 6 },
      { by: 'b', id, attempt: 2, attempts: 6 },
    ]);
  });

  it('a periodic pass sent by both replicas in one interval runs once, on one of them', async () => {
    const runs: string[] = [];
    for (const [q, by] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      await q.work(
        'tick',
        async () => {
          runs.push(by);
        },
        { concurrency: 1, periodic: true },
      );
    }
    // Every replica's timer fires in the same 30 s slot, twice each.
    await Promise.all([a.sendPeriodic('tick', 30), b.sendPeriodic('tick', 30), a.sendPeriodic('tick', 30), b.sendPeriodic('tick', 30)]);
    await waitFor('the pass to run', () => runs.length >= 1, 10_000, 50);
    await new Promise((r) => setTimeout(r, 1500)); // a second run would show within a poll
    expect(runs).toHaveLength(1);
  });

  it('labforge status reads the queue: jobs per queue and state, and the latest failure with its message', async () => {
    const cli = (...args: string[]) => captured(() => run(args, async () => createDb(t.url), { databaseUrl: t.url, replicaDeadMs: 20_000 }));
    let tries = 0;
    await a.work(
      'status-flaky',
      async () => {
        tries++;
        throw new Error('the engine said no');
      },
      { concurrency: 1, periodic: true }, // periodic: not retried
    );
    await a.work('status-fine', async () => {}, { concurrency: 1 });
    await a.sendPeriodic('status-flaky', 60);
    await a.send('status-fine', {});
    type Doc = { jobs: { shared: boolean; queues: Array<{ queue: string; byState: Record<string, number> }>; failed: Array<Record<string, unknown>> } };
    const d = await waitFor(
      'both jobs to end',
      async () => {
        const doc = JSON.parse((await cli('--json')).stdout) as Doc;
        const failed = doc.jobs.failed.filter((f) => f.queue === 'status-flaky');
        return doc.jobs.queues.find((x) => x.queue === 'status-fine')?.byState.completed === 1 && failed.length === 1 && doc;
      },
      20_000,
      200,
    );
    expect(tries).toBe(1);
    expect(d.jobs.shared).toBe(true);
    expect(d.jobs.queues.find((x) => x.queue === 'status-flaky')?.byState).toEqual({ failed: 1 });
    expect(d.jobs.failed.find((f) => f.queue === 'status-flaky')).toMatchObject({ attempts: 1, error: 'the engine said no' });
    expect((await cli()).stdout).toMatch(/Latest failed jobs:\n(.*\n)*.* status-flaky .* after 1 attempt\(s\): the engine said no/);
  });
});
