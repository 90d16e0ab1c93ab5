/**
 * Jobs in PostgreSQL through pg-boss (its own schema, `pgboss`, beside Prisma's tables). pg-boss
 * keeps the queue: a job is taken by one replica (SKIP LOCKED), retried with backoff when it fails,
 * expired when it runs too long, and stays in `pgboss.job` for operators to read. This file only
 * feeds each queue's handler as many jobs as it may run at once, fetching more when one ends, when
 * this replica sends one, and every second otherwise (pg-boss's own workers take one batch at a
 * time and wait for all of it, which would hold a quick job behind a slow one).
 */
import PgBoss from 'pg-boss';
import type { Logger } from '../base/log';
import { withAdvisoryLock } from '../db/locks';
import { JOB_RETRY, type JobHandler, type JobQueue, type QueueDepth, type WorkOptions } from './queue';

/** How each job is retried and expired (pg-boss's queue options). */
const QUEUE_OPTIONS = {
  retryLimit: JOB_RETRY.limit,
  retryDelay: JOB_RETRY.delaySeconds,
  retryBackoff: true,
  // A job running this long without finishing is failed by pg-boss and retried: a stuck replica.
  expireInSeconds: 20 * 60,
  // Finished jobs stay this long in `pgboss.job` for operators, then move to the archive.
  retentionDays: 7,
};
/** A periodic pass: one waiting and one running at most (pg-boss's `stately` policy), not retried. */
const PERIODIC_OPTIONS = { policy: 'stately' as const, retryLimit: 0, expireInSeconds: 10 * 60, retentionDays: 1 };
const POLL_MS = 1000;

interface Worker {
  name: string;
  handler: JobHandler<object>;
  concurrency: number;
  periodic: boolean;
  /** Its jobs under way on this replica (awaited at stop for a periodic pass). */
  runs: Set<Promise<void>>;
  fetching: boolean;
  timer?: NodeJS.Timeout;
}

export class PgBossQueue implements JobQueue {
  readonly shared = true;
  private readonly workers = new Map<string, Worker>();
  private stopped = false;

  private constructor(
    private readonly boss: PgBoss,
    private readonly connectionString: string,
    private readonly log: Logger,
  ) {}

  /** Connects and brings pg-boss's schema up to date (it migrates under its own advisory lock, so replicas may start together). */
  static async connect(connectionString: string, log: Logger): Promise<PgBossQueue> {
    const boss = new PgBoss({ connectionString, schema: 'pgboss', max: 4, application_name: 'labforge-jobs', schedule: false });
    boss.on('error', (e: Error) => log.warn({ err: e.message }, 'job queue error'));
    await boss.start();
    return new PgBossQueue(boss, connectionString, log);
  }

  async work<T extends object>(name: string, handler: JobHandler<T>, opts: WorkOptions): Promise<void> {
    await this.createQueue(name, opts.periodic ? PERIODIC_OPTIONS : QUEUE_OPTIONS);
    const worker: Worker = {
      name,
      handler: handler as JobHandler<object>,
      concurrency: opts.concurrency,
      periodic: !!opts.periodic,
      runs: new Set(),
      fetching: false,
    };
    this.workers.set(name, worker);
    void this.fill(worker);
  }

  /**
   * Makes the queue unless it exists. Replicas starting together take turns under an advisory lock:
   * two of pg-boss's createQueue at once deadlock in PostgreSQL (each makes the queue's partition).
   */
  private async createQueue(name: string, options: PgBoss.Queue | Omit<PgBoss.Queue, 'name'>): Promise<void> {
    if (await this.boss.getQueue(name)) return;
    await withAdvisoryLock(this.connectionString, 'job-queue-setup', async () => {
      if (!(await this.boss.getQueue(name))) await this.boss.createQueue(name, { ...options, name });
    });
  }

  async send<T extends object>(name: string, data: T): Promise<string> {
    const id = await this.boss.send(name, data);
    if (!id) throw new Error(`the job queue refused a "${name}" job`);
    const worker = this.workers.get(name);
    if (worker) void this.fill(worker);
    return id;
  }

  async sendPeriodic(name: string, everySeconds: number): Promise<void> {
    // Throttled by a key per time slot: the other replicas' sends in the same slot insert nothing.
    const id = await this.boss.sendThrottled(name, {}, {}, everySeconds, name);
    const worker = this.workers.get(name);
    if (id && worker) void this.fill(worker);
  }

  async pending(name: string, id: string): Promise<boolean> {
    const job = await this.boss.getJobById(name, id);
    return !!job && ['created', 'retry', 'active'].includes(job.state);
  }

  async retry(name: string, id: string, reason: string): Promise<void> {
    // Failing an active job makes pg-boss retry it (while attempts remain), on whichever replica fetches it.
    await this.boss.fail(name, id, { message: reason });
  }

  async depth(): Promise<QueueDepth[]> {
    return Promise.all(
      [...this.workers.keys()].map(async (queue) => {
        const [queued, upToActive] = await Promise.all([this.boss.getQueueSize(queue), this.boss.getQueueSize(queue, { before: 'completed' })]);
        return { queue, queued, active: upToActive - queued };
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) clearTimeout(w.timer);
    await Promise.all([...this.workers.values()].filter((w) => w.periodic).flatMap((w) => [...w.runs]));
    // Running jobs are not failed here: their sessions are handed over through the replica row.
    await this.boss.stop({ graceful: false, close: true, wait: false });
  }

  /** Takes jobs while the worker has room, then polls again in a second. */
  private async fill(w: Worker): Promise<void> {
    if (w.fetching || this.stopped) return;
    w.fetching = true;
    clearTimeout(w.timer);
    try {
      while (!this.stopped && w.runs.size < w.concurrency) {
        const jobs = await this.boss.fetch<object>(w.name, { batchSize: w.concurrency - w.runs.size, includeMetadata: true });
        if (!jobs.length) break;
        for (const job of jobs) this.run(w, job);
      }
    } catch (e) {
      this.log.warn({ queue: w.name, err: (e as Error).message }, 'could not fetch jobs');
    } finally {
      w.fetching = false;
      if (!this.stopped) w.timer = setTimeout(() => void this.fill(w), POLL_MS).unref();
    }
  }

  private run(w: Worker, job: PgBoss.JobWithMetadata<object>): void {
    const run = w
      .handler(job.data, { id: job.id, attempt: job.retryCount + 1, attempts: job.retryLimit + 1 })
      .then(
        () => this.boss.complete(w.name, job.id),
        (e: Error) => {
          this.log.warn({ queue: w.name, job: job.id, attempt: job.retryCount + 1, err: e.message }, 'job failed; the queue retries it while attempts remain');
          return this.boss.fail(w.name, job.id, { message: e.message });
        },
      )
      .catch((e: Error) => this.log.warn({ queue: w.name, job: job.id, err: e.message }, 'could not record the end of a job'))
      .finally(() => {
        w.runs.delete(run);
        void this.fill(w);
      });
    w.runs.add(run);
  }
}
