/**
 * Work that must happen exactly once even with several replicas: preparing a session's environment
 * is a job, and so is each run of the periodic passes (expiry, host watch, reconciler). On PostgreSQL, jobs live in the database through pg-boss (pg-boss.ts): any replica may
 * take one, a failed one is retried with backoff, and a job whose replica died is handed back
 * (lib/replicas/handover.ts) and taken by another. With SQLite (one process) the same jobs run
 * here, in this process, as they are sent: nothing outlives the process, and the server's start
 * fails what was cut off.
 */
import crypto from 'node:crypto';
import type { Logger } from '../base/log';

export interface JobInfo {
  id: string;
  /** 1 for the first try, then one more for each retry. */
  attempt: number;
}

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
  /** Runs `name` jobs on this replica with `handler`: its throw is a failure, retried while attempts remain. */
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
  /** The jobs running, per queue, by id. */
  private readonly running = new Map<string, Map<string, Promise<void>>>();
  private readonly periodic = new Set<string>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

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
    const run = handler(data, { id, attempt: 1 })
      .catch((e: Error) => this.log.error({ queue: name, job: id, err: e.message }, 'job failed'))
      .finally(() => jobs.delete(id));
    jobs.set(id, run);
    return id;
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
    await Promise.all([...this.periodic].flatMap((name) => [...this.running.get(name)!.values()]));
  }
}
