/**
 * A concurrency limit with priorities: at most `concurrency` jobs run at once, the rest wait
 * in one queue ordered by priority, first come first served within a priority. Provisioning
 * uses it so 30 learners starting together do not make the engine create 240 containers at
 * once (each start would take minutes instead of seconds); warm-pool fills wait behind every
 * learner (priority BACKGROUND), so a refill never delays a learner's start. Checks use
 * another one, so 30 simultaneous Checks do not thrash the engine.
 *
 * A waiting job is told its 1-based position whenever it changes; `estimate(id)` says when it
 * should be done, from how long recent jobs took (estimate.ts). A waiting job whose signal
 * aborts leaves the queue (a learner stopped the session); a running one is the job's business.
 */
import { RecentDurations, estimateStartMs } from './estimate';

/** Lower runs first. */
export const PRIORITY = { learner: 0, background: 10 } as const;

export interface JobOptions {
  /** Names the job for position() and estimate(); unique while queued or running. */
  id?: string;
  priority?: number;
  /** Aborting it while the job waits removes it from the queue: run() rejects with LimiterCancelled. */
  signal?: AbortSignal;
  /** Called with the 1-based queue position when it changes while waiting, and 0 once the job starts. */
  onPosition?: (position: number) => void;
}

export class LimiterCancelled extends Error {
  constructor(what: string) {
    super(`stopped waiting for ${what}`);
    this.name = 'LimiterCancelled';
  }
}

interface Waiter {
  id?: string;
  priority: number;
  seq: number;
  start: () => void;
  lastPosition: number;
  onPosition?: (position: number) => void;
}

export interface LimiterStats {
  concurrency: number;
  running: number;
  waiting: number;
  /** Median of the recent jobs' durations, ms. */
  typicalMs?: number;
}

export class Limiter {
  private queue: Waiter[] = [];
  /** Start times of the running jobs, by a token per job (ids are optional). */
  private running = new Map<symbol, { id?: string; startedAt: number }>();
  private seq = 0;
  private readonly durations: RecentDurations;
  private readonly now: () => number;

  constructor(
    readonly concurrency: number,
    /** What the jobs are, for messages: "its turn to be prepared". */
    private readonly what = 'a free slot',
    opts: { now?: () => number; window?: number } = {},
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`a concurrency limit must be a positive integer, got ${concurrency}`);
    this.now = opts.now ?? Date.now;
    this.durations = new RecentDurations(opts.window ?? 20);
  }

  /** Runs `fn` once a slot is free (in priority, then arrival order) and frees the slot when it settles. */
  async run<T>(fn: () => Promise<T>, opts: JobOptions = {}): Promise<T> {
    const token = await this.enter(opts);
    const startedAt = this.now();
    let ok = false;
    try {
      const out = await fn();
      ok = true;
      return out;
    } finally {
      this.running.delete(token);
      // Failures often end early (a missing image): they would make the typical job look short.
      if (ok) this.durations.add(this.now() - startedAt);
      this.next();
    }
  }

  /** 1-based place of a waiting job, 0 while it runs, undefined when unknown. */
  position(id: string): number | undefined {
    for (const r of this.running.values()) if (r.id === id) return 0;
    const i = this.queue.findIndex((w) => w.id === id);
    return i < 0 ? undefined : i + 1;
  }

  /**
   * Ms until the waiting job `id` should be done (its wait, then one typical job), from the
   * durations of recent jobs; undefined when it is not waiting or no job has finished yet.
   */
  estimate(id: string): number | undefined {
    const position = this.position(id);
    const typical = this.durations.typical();
    if (!position || typical === undefined) return undefined;
    const now = this.now();
    const elapsed = [...this.running.values()].map((r) => now - r.startedAt);
    return Math.round(estimateStartMs(position, this.concurrency, elapsed, typical) + typical);
  }

  stats(): LimiterStats {
    return { concurrency: this.concurrency, running: this.running.size, waiting: this.queue.length, typicalMs: this.durations.typical() };
  }

  // ---- internals -------------------------------------------------------

  private enter(opts: JobOptions): Promise<symbol> {
    const token = Symbol(opts.id ?? 'job');
    if (opts.signal?.aborted) return Promise.reject(new LimiterCancelled(this.what));
    if (opts.id !== undefined && this.position(opts.id) !== undefined) {
      return Promise.reject(new Error(`job ${opts.id} is already waiting for or holding ${this.what}`));
    }
    if (this.running.size < this.concurrency && !this.queue.length) {
      this.running.set(token, { id: opts.id, startedAt: this.now() });
      opts.onPosition?.(0);
      return Promise.resolve(token);
    }
    return new Promise<symbol>((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(new LimiterCancelled(this.what));
        this.notifyPositions();
      };
      const waiter: Waiter = {
        id: opts.id,
        priority: opts.priority ?? PRIORITY.learner,
        seq: this.seq++,
        lastPosition: 0,
        onPosition: opts.onPosition,
        start: () => {
          opts.signal?.removeEventListener('abort', onAbort);
          this.running.set(token, { id: opts.id, startedAt: this.now() });
          safely(() => opts.onPosition?.(0));
          resolve(token);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      // After every job of the same or a more urgent priority: FIFO within a priority.
      const at = this.queue.findIndex((w) => w.priority > waiter.priority);
      this.queue.splice(at < 0 ? this.queue.length : at, 0, waiter);
      this.notifyPositions();
    });
  }

  private next(): void {
    let moved = false;
    while (this.running.size < this.concurrency && this.queue.length) {
      this.queue.shift()!.start();
      moved = true;
    }
    if (moved) this.notifyPositions();
  }

  private notifyPositions(): void {
    this.queue.forEach((w, i) => {
      if (w.lastPosition === i + 1) return;
      w.lastPosition = i + 1;
      safely(() => w.onPosition?.(i + 1));
    });
  }
}

/** A listener's bug must not break the queue. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored on purpose
  }
}

/**
 * Default limits for this machine. Provisioning: creating a host is mostly the engine's work
 * (network, container, files, track setup), about one core each at its peak, so as many at once
 * as there are cores, at least 2 so a slow one does not hold the line. Checks: short execs that
 * wait on the engine far more than on the CPU; on 2 cores, 10 Checks of an 8-host lab at once
 * were answered faster all together (p50 1.4 s) than 4 at a time (2.4 s), so the limit only
 * guards against a crowd: 8 per core, at least 8 (bench/README.md, load).
 */
export function machineLimits(cpus: number): { provisioning: number; checks: number } {
  const n = Math.max(1, Math.floor(cpus));
  return { provisioning: Math.min(8, Math.max(2, n)), checks: Math.min(64, Math.max(8, 8 * n)) };
}
