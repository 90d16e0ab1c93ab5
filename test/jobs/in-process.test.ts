/** The job queue in this process (lib/jobs/queue.ts), what SQLite servers use. PostgreSQL's: pg-boss.test.ts. */
import { describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { InProcessQueue, JOB_RETRY, retryDelayMs, type JobInfo, type JobQueue } from '../../lib/jobs/queue';
import { waitFor } from '../support/wait';

describe('InProcessQueue', () => {
  it('runs a job as it is sent, once, and counts it while it runs', async () => {
    const q = new InProcessQueue(log);
    const seen: Array<[object, JobInfo]> = [];
    let release!: () => void;
    await q.work<{ n: number }>('provision', (data, job) => {
      seen.push([data, job]);
      return new Promise<void>((r) => (release = r));
    });
    const id = await q.send('provision', { n: 1 });
    expect(seen).toEqual([[{ n: 1 }, { id, attempt: 1, attempts: JOB_RETRY.limit + 1 }]]);
    expect(await q.depth()).toEqual([{ queue: 'provision', queued: 0, active: 1 }]);
    expect(await q.pending('provision', id)).toBe(true);
    release();
    await waitFor('the job to end', async () => (await q.depth())[0].active === 0, 2000, 10);
    expect(await q.pending('provision', id)).toBe(false);
  });

  it('refuses a job nobody works on, and new jobs once stopped', async () => {
    const q = new InProcessQueue(log);
    await expect(q.send('nobody', {})).rejects.toThrow(/no worker for "nobody" jobs/);
    await q.work('provision', async () => {});
    await q.stop();
    await expect(q.send('provision', {})).rejects.toThrow(/shutting down/);
  });

  it('a handler that throws is tried again after a growing delay, up to the limit, and the queue goes on', async () => {
    const delays: number[] = [];
    const q = new InProcessQueue(log, (retry) => {
      delays.push(retry);
      return 5;
    });
    const attempts: number[] = [];
    await q.work('provision', async (_d, job) => {
      attempts.push(job.attempt);
      if (job.attempt < 3) throw new Error('boom');
    });
    const ok = await q.send('provision', {});
    expect(await q.pending('provision', ok)).toBe(true);
    await waitFor('the job to end', async () => !(await q.pending('provision', ok)), 2000, 5);
    expect(attempts).toEqual([1, 2, 3]);
    expect(delays).toEqual([1, 2]);

    await q.work('doomed', async () => {
      throw new Error('boom');
    });
    await q.send('doomed', {});
    await waitFor('the doomed job to end', async () => (await q.depth()).every((d) => d.active === 0), 2000, 5);
    expect(delays).toHaveLength(2 + JOB_RETRY.limit);
    // The real delays: pg-boss's backoff, 1 s then twice as long each time, up to twice that with jitter.
    expect([1, 2, 3].map((r) => retryDelayMs(r, () => 0))).toEqual([1000, 2000, 4000]);
    expect(retryDelayMs(1, () => 0.999)).toBeLessThan(2000);
  });

  it('a retry waiting for its time is dropped at stop (the next start fails what was cut off)', async () => {
    const q = new InProcessQueue(log, () => 60_000);
    let calls = 0;
    await q.work('provision', async () => {
      calls++;
      throw new Error('engine down');
    });
    const id = await q.send('provision', {});
    await waitFor('the first attempt to fail', () => calls === 1, 2000, 5);
    await q.stop();
    await waitFor('the job to be dropped', async () => !(await q.pending('provision', id)), 2000, 5);
    expect(calls).toBe(1);
  });

  it('a periodic pass runs at once, but not again while it still runs', async () => {
    const q: JobQueue = new InProcessQueue(log);
    let runs = 0;
    let release!: () => void;
    await q.work(
      'sweep',
      () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
      { concurrency: 1, periodic: true },
    );
    await q.sendPeriodic('sweep', 10);
    await q.sendPeriodic('sweep', 10);
    expect(runs).toBe(1);
    release();
    await waitFor('the pass to end', async () => (await q.depth())[0].active === 0, 2000, 10);
    await q.sendPeriodic('sweep', 10);
    expect(runs).toBe(2);
    release();
  });

  it('stop waits for a periodic pass under way (it uses the database), never for a long job', async () => {
    const q: JobQueue = new InProcessQueue(log);
    let endPass!: () => void;
    await q.work('sweep', () => new Promise<void>((r) => (endPass = r)), { concurrency: 1, periodic: true });
    await q.work('provision', () => new Promise<void>(() => {}), { concurrency: 8 }); // never ends
    await q.sendPeriodic('sweep', 10);
    await q.send('provision', {});
    let stopped = false;
    const stopping = q.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    endPass();
    await stopping;
    expect(stopped).toBe(true);
  });
});
