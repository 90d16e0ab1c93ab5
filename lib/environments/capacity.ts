/**
 * Host capacity: how many environments may exist at once. A ticket has a cost
 * (by default the MiB of memory the lab declares); tickets run while their
 * costs fit under the limit, the rest wait in one FIFO queue, so a learner can
 * be told "you are number 3". Strict FIFO: a small ticket never overtakes a
 * big one at the head, so big labs cannot starve.
 *
 * Pure bookkeeping: no timers, no I/O. Warm-pool members hold tickets too (see
 * pool.ts); they take capacity only with tryAcquire, never by queueing, so a
 * pool refill never stands in line ahead of a learner.
 */
import type { Lab } from '../labs/schema';
import { sizeBytes } from '../labs/schema';

export interface Ticket {
  /** Unique while held or queued: a session id, or a pool member's owner. */
  id: string;
  cost: number;
  /** Told the 1-based queue position whenever it changes while waiting, and 0 once admitted. */
  onPosition?: (position: number) => void;
}

/** Gives the capacity back. Safe to call more than once. */
export type Release = () => void;

export interface CapacitySnapshot {
  limit: number;
  used: number;
  running: Array<{ id: string; cost: number }>;
  queued: Array<{ id: string; cost: number; position: number }>;
}

export class CapacityError extends Error {
  constructor(
    message: string,
    readonly code: 'cancelled' | 'duplicate' | 'invalid',
  ) {
    super(message);
    this.name = 'CapacityError';
  }
}

interface Waiter {
  ticket: Ticket;
  resolve: (release: Release) => void;
  reject: (err: Error) => void;
  lastPosition: number;
  cleanup: () => void;
}

export interface CapacityOptions {
  /** Total budget, in the unit costOf returns (MiB by default). */
  limit: number;
  /** Cost of one environment of a lab; defaults to labMemoryMiB. */
  costOf?: (lab: Lab) => number;
}

export class Capacity {
  readonly limit: number;
  private readonly cost: (lab: Lab) => number;
  private running = new Map<string, number>();
  private queue: Waiter[] = [];
  private listeners = new Set<() => void>();
  private usedTotal = 0;

  constructor(opts: CapacityOptions) {
    if (!(opts.limit > 0) || !Number.isFinite(opts.limit)) {
      throw new CapacityError(`capacity limit must be a positive number, got ${opts.limit}`, 'invalid');
    }
    this.limit = opts.limit;
    this.cost = opts.costOf ?? labMemoryMiB;
  }

  /** What one environment of this lab costs against the limit. */
  costOf(lab: Lab): number {
    return this.cost(lab);
  }

  get used(): number {
    return this.usedTotal;
  }

  /**
   * Waits for room, then holds `ticket.cost` until the returned release is called
   * (or release(id)). Rejects with CapacityError 'cancelled' when the signal aborts
   * while waiting. A ticket bigger than the whole limit is admitted only when
   * nothing else runs (refusing it would make the lab unusable on this host).
   */
  acquire(ticket: Ticket, signal?: AbortSignal): Promise<Release> {
    const bad = this.invalid(ticket);
    if (bad) return Promise.reject(bad);
    if (signal?.aborted) return Promise.reject(cancelled(ticket.id));
    if (!this.queue.length && this.fits(ticket.cost)) {
      ticket.onPosition?.(0);
      return Promise.resolve(this.admit(ticket));
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(cancelled(ticket.id));
        // The head may have been the blocker; others moved up either way.
        this.drain();
        this.notifyPositions();
        this.changed();
      };
      const waiter: Waiter = {
        ticket,
        resolve,
        reject,
        lastPosition: 0,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.notifyPositions();
      this.changed();
    });
  }

  /** Takes capacity only if it is free now and nobody is waiting; never queues. */
  tryAcquire(ticket: Ticket): Release | undefined {
    const bad = this.invalid(ticket);
    if (bad) throw bad;
    if (this.queue.length || !this.fits(ticket.cost)) return undefined;
    const release = this.admit(ticket);
    this.changed();
    return release;
  }

  /**
   * Counts an environment that already exists (a session resumed after a
   * restart), over the limit if need be: it uses the memory either way.
   */
  hold(ticket: Ticket): Release {
    const bad = this.invalid(ticket);
    if (bad) throw bad;
    const release = this.admit(ticket);
    this.changed();
    return release;
  }

  /** Releases a running ticket by id; false when it was not running. */
  release(id: string): boolean {
    const cost = this.running.get(id);
    if (cost === undefined) return false;
    this.running.delete(id);
    this.usedTotal -= cost;
    this.drain();
    this.changed();
    return true;
  }

  /** Re-keys a running ticket (a claimed pool member's ticket becomes the session's). */
  transfer(from: string, to: string): boolean {
    const cost = this.running.get(from);
    if (cost === undefined || from === to) return cost !== undefined;
    if (this.running.has(to) || this.queue.some((w) => w.ticket.id === to)) {
      throw new CapacityError(`cannot hand capacity ticket ${from} to ${to}: ${to} already holds or waits for one`, 'duplicate');
    }
    this.running.delete(from);
    this.running.set(to, cost);
    this.changed();
    return true;
  }

  /** 1-based place in the queue, 0 when running, undefined when unknown. */
  position(id: string): number | undefined {
    if (this.running.has(id)) return 0;
    const i = this.queue.findIndex((w) => w.ticket.id === id);
    return i < 0 ? undefined : i + 1;
  }

  snapshot(): CapacitySnapshot {
    return {
      limit: this.limit,
      used: this.usedTotal,
      running: [...this.running].map(([id, cost]) => ({ id, cost })),
      queued: this.queue.map((w, i) => ({ id: w.ticket.id, cost: w.ticket.cost, position: i + 1 })),
    };
  }

  /** Called after anything changes (admit, release, queue). Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- internals -------------------------------------------------------

  private invalid(ticket: Ticket): CapacityError | undefined {
    if (!(ticket.cost > 0) || !Number.isFinite(ticket.cost)) {
      return new CapacityError(`capacity ticket ${ticket.id}: cost must be a positive number, got ${ticket.cost}`, 'invalid');
    }
    if (this.running.has(ticket.id) || this.queue.some((w) => w.ticket.id === ticket.id)) {
      return new CapacityError(`capacity ticket ${ticket.id} is already held or waiting`, 'duplicate');
    }
    return undefined;
  }

  private fits(cost: number): boolean {
    return this.usedTotal + cost <= this.limit || this.running.size === 0;
  }

  private admit(ticket: Ticket): Release {
    this.running.set(ticket.id, ticket.cost);
    this.usedTotal += ticket.cost;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // Only our own admission: the id may have been transferred or reused since.
      if (this.running.get(ticket.id) === ticket.cost) this.release(ticket.id);
    };
  }

  private drain() {
    let moved = false;
    while (this.queue.length && this.fits(this.queue[0].ticket.cost)) {
      const w = this.queue.shift()!;
      w.cleanup();
      const release = this.admit(w.ticket);
      w.ticket.onPosition?.(0);
      w.resolve(release);
      moved = true;
    }
    if (moved) this.notifyPositions();
  }

  private notifyPositions() {
    this.queue.forEach((w, i) => {
      if (w.lastPosition === i + 1) return;
      w.lastPosition = i + 1;
      try {
        w.ticket.onPosition?.(i + 1);
      } catch {
        // A listener's bug must not break the queue.
      }
    });
  }

  private changed() {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // Same: bookkeeping goes on.
      }
    }
  }
}

function cancelled(id: string) {
  return new CapacityError(`stopped waiting for capacity (${id})`, 'cancelled');
}

// ---- costs and limits ----------------------------------------------------

const MIB = 1024 * 1024;
/**
 * Memory per Kind node, which labs do not declare: a node with a CNI agent idles
 * around 700-1000 MiB (a 3-node Kind + Cilium cluster at about 2-3 GiB).
 */
export const KIND_NODE_MIB = 1024;

/** `256Mi`, `1Gi` or a number of MiB, in MiB. */
export function mebibytes(m: string | number): number {
  return sizeBytes(m) / 1024 ** 2;
}

/** Memory a lab's environment may use: its hosts' declared limits, plus an estimate per Kind node. */
export function labMemoryMiB(lab: Pick<Lab, 'track'>): number {
  const env = lab.track.environment;
  const hosts = env.hosts.reduce((sum, h) => sum + mebibytes(h.resources.memory), 0);
  return env.driver === 'kind' ? hosts + env.cluster.nodes.length * KIND_NODE_MIB : hosts;
}

/** The default limit in MiB: host memory minus a reserve for the platform, the engine and the kernel. */
export function defaultCapacity(totalMemBytes: number, reserveFraction = 0.25): number {
  if (!(reserveFraction >= 0 && reserveFraction < 1)) {
    throw new CapacityError(`reserve fraction must be in [0, 1), got ${reserveFraction}`, 'invalid');
  }
  return Math.max(1, Math.floor((totalMemBytes / MIB) * (1 - reserveFraction)));
}

/**
 * The server's Capacity: a fixed number of environments when configured (each
 * costs 1), else a memory budget derived from the host (each costs its lab's MiB).
 */
export function createCapacity(opts: { maxEnvironments?: number; totalMemBytes: number; reserveFraction?: number }): Capacity {
  if (opts.maxEnvironments !== undefined) return new Capacity({ limit: opts.maxEnvironments, costOf: () => 1 });
  return new Capacity({ limit: defaultCapacity(opts.totalMemBytes, opts.reserveFraction) });
}
