/**
 * One lab's warm members: the ready ones, those being created, and the refill
 * loop that keeps `size` of them (one creation at a time, with backoff after a
 * failure). The pool across labs (pool.ts) claims, recycles and evicts through it.
 */
import { randomBytes } from 'node:crypto';
import type { Lab } from '../../labs/schema';
import type { Logger } from '../../base/log';
import { PRIORITY, type Limiter } from '../../base/limiter';
import type { Capacity } from '../capacity';
import type { Environment, EnvironmentDriver } from '../driver';

export const POOL_OWNER_PREFIX = 'pool-';

export interface PoolLabConfig {
  lab: Lab;
  /** Members kept ready. */
  size: number;
  /** Ready members older than this are destroyed and replaced. */
  ttlMs: number;
}

/** What a lab's members need from the pool's owner (the pool's deps, PoolDeps, include these). */
export interface MemberDeps {
  capacity: Capacity;
  /** Track setup, with no session variables. Throws (a human message) when it fails. */
  prepare: (env: Environment, lab: Lab) => Promise<void>;
  /** Clock for member ages (TTL); injected by tests. Backoff uses real time. */
  now?: () => number;
  /** Retry delay after a failed fill: initialMs, doubling per consecutive failure, up to maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Wait this long after a claim before refilling: creating an environment loads the host, and the
   * learner who just claimed one should get their first prompt first. Default 5 s.
   */
  refillDelayMs?: number;
  /** The server's provisioning limit: a member is created and set up in its turn, behind every learner's start. */
  limiter?: Limiter;
}

export interface PoolLabStats {
  lab: string;
  size: number;
  ready: number;
  creating: number;
  claimed: number;
  /** Claims that found no ready member (the session then provisions cold). */
  misses: number;
  created: number;
  /** Ready members destroyed before a claim: TTL, unhealthy, or given back to queued learners. */
  recycled: number;
  /** Consecutive failed fills (0 after a success). */
  failures: number;
  lastError?: string;
  /** Age of the oldest ready member. */
  oldestMs?: number;
}

export interface Member {
  owner: string;
  env: Environment;
  readyAt: number;
}

const POLL_MS = 5_000;

/** Counts a failed member in `counts`; returns how long its lab waits before the next try (doubling per failure in a row). */
export function backoffAfterFailure(counts: { failures: number; lastError?: string }, err: Error, backoff = { initialMs: 2_000, maxMs: 5 * 60_000 }): number {
  counts.failures++;
  counts.lastError = err.message;
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** (counts.failures - 1));
}
/** A new member's owner label. */
export const newPoolOwner = () => `${POOL_OWNER_PREFIX}${randomBytes(6).toString('hex')}`;

export class LabMembers {
  /** Oldest first: a claim takes the first. */
  ready: Member[] = [];
  readonly creating = new Map<string, AbortController>();
  private counts: { claimed: number; misses: number; created: number; recycled: number; failures: number; lastError?: string } = {
    claimed: 0,
    misses: 0,
    created: 0,
    recycled: 0,
    failures: 0,
  };
  private backoffUntil = 0;
  private wakeUp = () => {};
  private loop?: Promise<void>;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    readonly slug: string,
    readonly cfg: PoolLabConfig,
    readonly driver: EnvironmentDriver,
    private readonly cost: number,
    private readonly deps: MemberDeps,
    private readonly log: Logger,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Starts the refill loop. */
  fill(): void {
    this.loop ??= this.refill();
  }

  /** Ends a wait of the refill loop early: a claim, a discard or free capacity. */
  wake(): void {
    this.wakeUp();
  }

  /** Fewer members than the lab's size, counting those being created. */
  short(): boolean {
    return this.ready.length + this.creating.size < this.cfg.size;
  }

  /** Takes the oldest ready member, moving its capacity ticket to `holder`; a refill follows after refillDelayMs. */
  claim(holder?: string): Member | undefined {
    const m = this.ready[0];
    if (!m) {
      this.wake();
      this.counts.misses++;
      return undefined;
    }
    // Before taking it out: a refused transfer (holder already holds a ticket) leaves the pool as it was.
    if (holder && holder !== m.owner) this.deps.capacity.transfer(m.owner, holder);
    this.ready.shift();
    this.counts.claimed++;
    setTimeout(() => this.wake(), this.deps.refillDelayMs ?? 5_000).unref();
    this.log.info({ lab: this.slug, owner: m.owner, holder, ageMs: this.now() - m.readyAt }, 'pool member claimed');
    return m;
  }

  /** Destroys ready members older than the TTL, and members whose hosts died; returns their owners. */
  async recycle(): Promise<string[]> {
    const recycled: string[] = [];
    const now = this.now();
    const old = this.ready.filter((m) => now - m.readyAt >= this.cfg.ttlMs);
    this.ready = this.ready.filter((m) => !old.includes(m));
    const jobs = old.map((m) => {
      recycled.push(m.owner);
      return this.discard(m, 'older than the TTL');
    });
    for (const m of [...this.ready]) {
      jobs.push(
        this.driver.health(m.env).then(
          (h) => {
            // Claimed meanwhile: no longer ours to judge.
            if (h.ok || !this.ready.includes(m)) return;
            this.ready = this.ready.filter((x) => x !== m);
            recycled.push(m.owner);
            return this.discard(m, `unhealthy: ${h.detail ?? 'unknown'}`);
          },
          (e: Error) => this.log.warn({ lab: this.slug, owner: m.owner, err: e.message }, 'pool health check failed'),
        ),
      );
    }
    await Promise.all(jobs);
    return recycled;
  }

  /** Stops the refill loop (aborting a creation in flight) and destroys every ready member. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.creating.forEach((ac) => ac.abort());
    this.wake();
    await this.loop;
    const members = this.ready;
    this.ready = [];
    await Promise.all(members.map((m) => this.discard(m, 'pool stopped')));
  }

  /** Destroys a member already taken out of `ready` and gives its capacity back. */
  async discard(m: Member, why: string): Promise<void> {
    if (!this.stopped) this.counts.recycled++;
    this.log.info({ lab: this.slug, owner: m.owner, why }, 'pool member discarded');
    await this.destroy(m.owner, m.env);
    this.deps.capacity.release(m.owner);
    this.wake();
  }

  stats(): PoolLabStats {
    return {
      lab: this.slug,
      size: this.cfg.size,
      ready: this.ready.length,
      creating: this.creating.size,
      ...this.counts,
      oldestMs: this.ready.length ? this.now() - Math.min(...this.ready.map((m) => m.readyAt)) : undefined,
    };
  }

  get lastError(): string | undefined {
    return this.counts.lastError;
  }

  /** One creation at a time (creating is the heavy part), woken by claims and capacity changes. */
  private async refill(): Promise<void> {
    while (!this.stopped) {
      const need = this.cfg.size - this.ready.length - this.creating.size;
      const backoff = this.backoffUntil - Date.now();
      if (need > 0 && backoff <= 0) {
        const owner = newPoolOwner();
        let release;
        try {
          release = this.deps.capacity.tryAcquire({ id: owner, cost: this.cost });
        } catch (e) {
          this.failed(owner, e as Error);
        }
        if (release) {
          await this.create(owner);
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, need > 0 && backoff > 0 ? backoff : POLL_MS);
        this.wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeUp = () => undefined;
    }
  }

  private async create(owner: string): Promise<void> {
    const ac = new AbortController();
    this.creating.set(owner, ac);
    const started = Date.now();
    let env: Environment | undefined;
    try {
      const { lab } = this.cfg;
      const build = async () => {
        env = await this.driver.create(
          { owner, lab: this.slug, labRoot: lab.root, environment: lab.track.environment },
          (p) => this.log.debug({ lab: this.slug, owner, ...p }, 'pool member progress'),
          ac.signal,
        );
        if (ac.signal.aborted) throw new Error('pool stopped');
        await this.deps.prepare(env, lab);
      };
      // Background priority: a refill waits while any learner's start waits for the same limit.
      const limiter = this.deps.limiter;
      await (limiter ? limiter.run(build, { id: owner, priority: PRIORITY.background, signal: ac.signal }) : build());
      if (ac.signal.aborted || !env) throw new Error('pool stopped');
      this.ready.push({ owner, env: env as Environment, readyAt: this.now() });
      this.counts.created++;
      this.counts.failures = 0;
      this.counts.lastError = undefined;
      this.log.info({ lab: this.slug, owner, ms: Date.now() - started, ready: this.ready.length, size: this.cfg.size }, 'pool member ready');
    } catch (e) {
      if (!ac.signal.aborted) this.failed(owner, e as Error);
      await this.destroy(owner, env);
      this.deps.capacity.release(owner);
    } finally {
      this.creating.delete(owner);
    }
  }

  private failed(owner: string, err: Error) {
    const delay = backoffAfterFailure(this.counts, err, this.deps.backoff);
    this.backoffUntil = Date.now() + delay;
    this.log.warn(
      { lab: this.slug, owner, failures: this.counts.failures, retryInMs: delay, err: err.message },
      'pool member could not be prepared; will retry',
    );
  }

  private async destroy(owner: string, env?: Environment) {
    try {
      await (env ? this.driver.destroy(env) : this.driver.destroyOwner(owner));
    } catch (e) {
      // The reconciler removes it later: once it leaves ownedBy() it is an orphan.
      this.log.error({ lab: this.slug, owner, err: (e as Error).message }, 'destroying a pool member failed');
    }
  }
}
