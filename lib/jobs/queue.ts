/**
 * Work that must happen exactly once even with several replicas: preparing a session's environment
 * is a job, and so is each run of the periodic passes (expiry, host watch, reconciler). On PostgreSQL, jobs live in the database through pg-boss (pg-boss.ts): any replica may
 * take one, a failed one is retried with backoff, and a job whose replica died is handed back
 * (lib/replicas/handover.ts) and taken by another. With SQLite (one process) the same jobs run
 * here, in this process, as they are sent, and are retried here the same way: nothing outlives
 * the process, and the server's start fails what was cut off.
 */
import crypto from 'node:crypto';
import type { Logger } from '../base/log';

export interface JobInfo {
  id: string;
  /** 1 for the first try, then one more for each retry. */
  attempt: number;
  /** Tries in all: a throw on the last one fails the job for good. */
  attempts: number;
}

/**
 * How a job that throws is tried again (not a periodic pass: the next one is due anyway): this many
 * retries, the first after 1–2 × `delaySeconds`, each next one twice as late, with jitter (pg-boss's
 * backoff, which the in-process queue copies). 31–62 s in all: an engine restarting is back by
 * then, and a job handed over from a gone replica waits only a second or two.
 */
export const JOB_RETRY = { limit: 5, delaySeconds: 1 };

/** The delay before retry number `retry` (1-based): delay·2^(retry-1), up to twice that (pg-boss's formula). */
export const retryDelayMs = (retry: number, random = Math.random) => JOB_RETRY.delaySeconds * 1000 * 2 ** (retry - 1) * (1 + random());

export type JobHandler<T> = (data: T, job: JobInfo) => Promise<void>;

export interface WorkOptions {
  /** Jobs of this queue this replica runs at once; the rest wait in the queue for any replica. */
  concurrency: number;
  /**
   * A periodic pass (the expiry sweep, the host watch, the reconciler), sent with sendPeriodic: at
   * most one waits and one runs across replicas, and a failed one is not retried (the next is due).
   */
  periodic?: boolean;
}

export interface QueueDepth {
  queue: string;
  /** Waiting for a replica to take them (retries included). */
  queued: number;
  /** Being run, by any replica. */
  active: number;
}

export interface JobQueue {
  /** Whether jobs are in the database, shared by replicas and surviving this process. */
  readonly shared: boolean;
  /** Runs `name` jobs on this replica with `handler`: its throw is a failure, retried (JOB_RETRY) while attempts remain. */
  work<T extends object>(name: string, handler: JobHandler<T>, opts: WorkOptions): Promise<void>;
  /** Queues a job; its id. */
  send<T extends object>(name: string, data: T): Promise<string>;
  /** Queues a periodic pass, at most once per `everySeconds` across replicas: whichever replica sends first, any one runs it. */
  sendPeriodic(name: string, everySeconds: number): Promise<void>;
  /** Whether a job still waits or runs (false: done, failed for good, or unknown). */
  pending(name: string, id: string): Promise<boolean>;
  /** Hands an active job back for another attempt (its replica is gone). */
  retry(name: string, id: string, reason: string): Promise<void>;
  depth(): Promise<QueueDepth[]>;
  /**
   * Stops taking jobs, and waits for the periodic passes under way (short, and they use the
   * database the server closes next). Other jobs are not awaited: a replica going away hands its
   * unfinished ones to the others through its replica row (lib/replicas/), and with SQLite the
   * next start fails them.
   */
  stop(): Promise<void>;
}

/** Jobs run in this process as they are sent (SQLite: one server, nothing to share). */
export class InProcessQueue implements JobQueue {
  readonly shared = false;
  private readonly handlers = new Map<string, JobHandler<object>>();
  /** The jobs running or waiting for a retry, per queue, by id. */
  private readonly running = new Map<string, Map<string, Promise<void>>>();
  private readonly periodic = new Set<string>();
  /** Retries waiting for their time, each ended early (and dropped) by stop(). */
  private readonly waits = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly retryDelay: (retry: number) => number = retryDelayMs,
  ) {}

  async work<T extends object>(name: string, handler: JobHandler<T>, opts?: WorkOptions): Promise<void> {
    this.handlers.set(name, handler as JobHandler<object>);
    this.running.set(name, new Map());
    if (opts?.periodic) this.periodic.add(name);
  }

  async send<T extends object>(name: string, data: T): Promise<string> {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`no worker for "${name}" jobs`);
    if (this.stopped) throw new Error('the server is shutting down');
    const id = crypto.randomUUID();
    const jobs = this.running.get(name)!;
    const attempts = this.periodic.has(name) ? 1 : JOB_RETRY.limit + 1;
    const run = this.attempt(name, handler, data, id, attempts).finally(() => jobs.delete(id));
    jobs.set(id, run);
    return id;
  }

  private async attempt(name: string, handler: JobHandler<object>, data: object, id: string, attempts: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await handler(data, { id, attempt, attempts });
      } catch (e) {
        const err = (e as Error).message;
        if (attempt >= attempts || this.stopped) return void this.log.error({ queue: name, job: id, attempt, err }, 'job failed');
        this.log.warn({ queue: name, job: id, attempt, err }, 'job failed; it is tried again after a while');
        if (!(await this.pause(this.retryDelay(attempt)))) return;
      }
    }
  }

  /** Waits `ms`; false when stop() came first (the retry is dropped: the next start fails what was cut off). */
  private pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const end = (done: boolean) => {
        clearTimeout(timer);
        this.waits.delete(cancel);
        resolve(done);
      };
      const cancel = () => end(false);
      const timer = setTimeout(() => end(true), ms);
      timer.unref();
      this.waits.add(cancel);
    });
  }

  async sendPeriodic(name: string): Promise<void> {
    // One process: the pass runs now, unless the previous one still does.
    if (this.running.get(name)?.size) return;
    await this.send(name, {});
  }

  async pending(name: string, id: string): Promise<boolean> {
    return this.running.get(name)?.has(id) ?? false;
  }

  async retry(): Promise<void> {
    // One process: a job cannot outlive its replica here.
  }

  async depth(): Promise<QueueDepth[]> {
    return [...this.running].map(([queue, jobs]) => ({ queue, queued: 0, active: jobs.size }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cancel of [...this.waits]) cancel();
    await Promise.all([...this.periodic].flatMap((name) => [...this.running.get(name)!.values()]));
  }
}
