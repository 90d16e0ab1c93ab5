/**
 * Warm pools: per lab, N environments created and track-setup'd ahead of time,
 * so starting a lab is a map pop instead of minutes of provisioning. Whatever
 * is learner-specific (variables, the first challenge's setup) runs at claim
 * time, in the session. Driver-agnostic: it only uses EnvironmentDriver.
 *
 * Members are ordinary environments with owner `pool-<random>`. Claiming hands
 * the environment over logically: the resources keep their `pool-…` owner label,
 * the session stores the Environment JSON, and the session service must count
 * `env.owner` of its live sessions as live for the reconciler (see ownedBy()).
 *
 * Members hold capacity like any environment, but the pool only takes free
 * capacity (tryAcquire) and gives idle members back while learners queue.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Lab } from '../../labs/schema';
import type { Logger } from '../../base/log';
import type { Capacity } from '../capacity';
import type { Environment, EnvironmentDriver } from '../driver';
import { poolRefusal } from './eligibility';

export const POOL_OWNER_PREFIX = 'pool-';

const labConfigSchema = z.object({
  size: z.number().int().min(0).max(100),
  ttlMs: z.number().int().positive(),
});

export interface PoolLabConfig {
  lab: Lab;
  /** Members kept ready. */
  size: number;
  /** Ready members older than this are destroyed and replaced. */
  ttlMs: number;
}

export interface PoolDeps {
  /** One driver, or the drivers by name (`environment.driver`) like the session service has. */
  driver: EnvironmentDriver | Record<string, EnvironmentDriver>;
  capacity: Capacity;
  /** Track setup, with no session variables. Throws (a human message) when it fails. */
  prepare: (env: Environment, lab: Lab) => Promise<void>;
  log: Logger;
  /** Clock for member ages (TTL); injected by tests. Backoff uses real time. */
  now?: () => number;
  /** Retry delay after a failed fill: initialMs, doubling per consecutive failure, up to maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  /** How often recycle() runs by itself once fill() started; 0 turns it off. */
  recycleEveryMs?: number;
  /** Claimed owners stay in ownedBy() this long, covering the gap before the session stores its environment. */
  claimGraceMs?: number;
  /**
   * Wait this long after a claim before refilling: creating an environment loads the host, and the
   * learner who just claimed one should get their first prompt first. Default 5 s.
   */
  refillDelayMs?: number;
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

export interface PoolStats {
  labs: PoolLabStats[];
  refused: Array<{ lab: string; reason: string }>;
}

interface Member {
  owner: string;
  env: Environment;
  readyAt: number;
}

interface LabState {
  slug: string;
  cfg: PoolLabConfig;
  driver: EnvironmentDriver;
  cost: number;
  ready: Member[];
  creating: Map<string, AbortController>;
  stats: { claimed: number; misses: number; created: number; recycled: number; failures: number; lastError?: string };
  backoffUntil: number;
  wake: () => void;
  loop?: Promise<void>;
}

const POLL_MS = 5_000;
const newOwner = () => `${POOL_OWNER_PREFIX}${randomBytes(6).toString('hex')}`;

export class WarmPool {
  private labs = new Map<string, LabState>();
  private refused: Array<{ lab: string; reason: string }> = [];
  private claimedAt = new Map<string, number>();
  private log: Logger;
  private now: () => number;
  private started = false;
  private stopped = false;
  private evicting = false;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(
    labs: PoolLabConfig[],
    private deps: PoolDeps,
  ) {
    this.log = deps.log.child({ module: 'pool' });
    this.now = deps.now ?? Date.now;
    for (const cfg of labs) {
      const slug = cfg.lab.track.slug;
      const parsed = labConfigSchema.safeParse(cfg);
      const reason = parsed.success
        ? this.labs.has(slug)
          ? 'configured twice'
          : poolRefusal(cfg.lab)
        : `invalid pool config: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`;
      const driver = this.driverFor(cfg.lab);
      const why = reason ?? (driver ? undefined : `no "${cfg.lab.track.environment.driver}" driver on this server`);
      if (why) {
        this.refused.push({ lab: slug, reason: why });
        this.log.warn({ lab: slug, reason: why }, 'lab not pooled');
        continue;
      }
      this.labs.set(slug, {
        slug,
        cfg,
        driver: driver!,
        cost: deps.capacity.costOf(cfg.lab),
        ready: [],
        creating: new Map(),
        stats: { claimed: 0, misses: 0, created: 0, recycled: 0, failures: 0 },
        backoffUntil: 0,
        wake: () => undefined,
      });
    }
  }

  /** Starts the background fill loops (one per lab) and periodic recycling. Idempotent. */
  fill(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.unsubscribe = this.deps.capacity.onChange(() => this.onCapacityChange());
    for (const s of this.labs.values()) s.loop = this.loop(s);
    const every = this.deps.recycleEveryMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.recycle().catch((e: Error) => this.log.error({ err: e.message }, 'recycle failed')), every);
      this.timer.unref();
    }
  }

  /**
   * A ready environment with track setup done, or undefined (not pooled, or
   * empty: provision cold). Instant. Its capacity ticket moves to `holder`
   * (e.g. the session id) when given, else stays under env.owner: the caller
   * releases it with capacity.release(holder) when the environment goes.
   */
  claim(labSlug: string, holder?: string): Environment | undefined {
    const s = this.labs.get(labSlug);
    if (!s || this.stopped) return undefined;
    const m = s.ready[0];
    if (!m) {
      s.wake();
      s.stats.misses++;
      return undefined;
    }
    // Before taking it out: a refused transfer (holder already holds a ticket) leaves the pool as it was.
    if (holder && holder !== m.owner) this.deps.capacity.transfer(m.owner, holder);
    s.ready.shift();
    this.claimedAt.set(m.owner, Date.now());
    s.stats.claimed++;
    setTimeout(() => s.wake(), this.deps.refillDelayMs ?? 5_000).unref();
    this.log.info({ lab: labSlug, owner: m.owner, holder, ageMs: this.now() - m.readyAt }, 'pool member claimed');
    return m.env;
  }

  /** Owners the pool keeps alive (ready, being created, just claimed): the reconciler must spare them. */
  ownedBy(): Set<string> {
    const owners = new Set<string>();
    for (const s of this.labs.values()) {
      s.ready.forEach((m) => owners.add(m.owner));
      s.creating.forEach((_, owner) => owners.add(owner));
    }
    const grace = this.deps.claimGraceMs ?? 5 * 60_000;
    for (const [owner, at] of this.claimedAt) {
      if (Date.now() - at > grace) this.claimedAt.delete(owner);
      else owners.add(owner);
    }
    return owners;
  }

  /** Destroys ready members older than their lab's TTL, and members whose hosts died; the loops refill. */
  async recycle(): Promise<{ recycled: string[] }> {
    const recycled: string[] = [];
    const now = this.now();
    const jobs: Promise<void>[] = [];
    for (const s of this.labs.values()) {
      const old = s.ready.filter((m) => now - m.readyAt >= s.cfg.ttlMs);
      s.ready = s.ready.filter((m) => !old.includes(m));
      for (const m of old) {
        recycled.push(m.owner);
        jobs.push(this.discard(s, m, 'older than the TTL'));
      }
      for (const m of [...s.ready]) {
        jobs.push(
          s.driver.health(m.env).then(
            (h) => {
              // Claimed meanwhile: no longer ours to judge.
              if (h.ok || !s.ready.includes(m)) return;
              s.ready = s.ready.filter((x) => x !== m);
              recycled.push(m.owner);
              return this.discard(s, m, `unhealthy: ${h.detail ?? 'unknown'}`);
            },
            (e: Error) => this.log.warn({ lab: s.slug, owner: m.owner, err: e.message }, 'pool health check failed'),
          ),
        );
      }
    }
    await Promise.all(jobs);
    return { recycled };
  }

  /** Stops filling and destroys every unclaimed member (waits for creations in flight to end). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const s of this.labs.values()) {
      s.creating.forEach((ac) => ac.abort());
      s.wake();
    }
    await Promise.all([...this.labs.values()].map((s) => s.loop));
    await Promise.all(
      [...this.labs.values()].flatMap((s) => {
        const members = s.ready;
        s.ready = [];
        return members.map((m) => this.discard(s, m, 'pool stopped'));
      }),
    );
  }

  /** Resolves once the lab has `count` ready members (default: its size); rejects after timeoutMs. */
  async untilReady(labSlug: string, count?: number, timeoutMs = 300_000): Promise<void> {
    const s = this.labs.get(labSlug);
    if (!s) throw new Error(`lab "${labSlug}" is not pooled${this.refusal(labSlug) ? `: ${this.refusal(labSlug)}` : ''}`);
    const want = count ?? s.cfg.size;
    const deadline = Date.now() + timeoutMs;
    while (s.ready.length < want) {
      if (this.stopped) throw new Error('the pool was stopped');
      if (Date.now() > deadline) {
        throw new Error(
          `pool for ${labSlug} has ${s.ready.length}/${want} ready after ${timeoutMs} ms${s.stats.lastError ? ` (last error: ${s.stats.lastError})` : ''}`,
        );
      }
      await sleep(100);
    }
  }

  /** Why a lab is not pooled, if it was configured and refused. */
  refusal(labSlug: string): string | undefined {
    return this.refused.find((r) => r.lab === labSlug)?.reason;
  }

  stats(): PoolStats {
    const now = this.now();
    return {
      labs: [...this.labs.values()].map((s) => ({
        lab: s.slug,
        size: s.cfg.size,
        ready: s.ready.length,
        creating: s.creating.size,
        ...s.stats,
        oldestMs: s.ready.length ? now - Math.min(...s.ready.map((m) => m.readyAt)) : undefined,
      })),
      refused: [...this.refused],
    };
  }

  // ---- internals -------------------------------------------------------

  private driverFor(lab: Lab): EnvironmentDriver | undefined {
    const d = this.deps.driver;
    return 'create' in d && typeof d.create === 'function' ? (d as EnvironmentDriver) : (d as Record<string, EnvironmentDriver>)[lab.track.environment.driver];
  }

  /** One lab's refill loop: one creation at a time (creating is the heavy part), woken by claims and capacity changes. */
  private async loop(s: LabState): Promise<void> {
    while (!this.stopped) {
      const need = s.cfg.size - s.ready.length - s.creating.size;
      const backoff = s.backoffUntil - Date.now();
      if (need > 0 && backoff <= 0) {
        const owner = newOwner();
        let release;
        try {
          release = this.deps.capacity.tryAcquire({ id: owner, cost: s.cost });
        } catch (e) {
          this.failed(s, owner, e as Error);
        }
        if (release) {
          await this.createMember(s, owner);
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, need > 0 && backoff > 0 ? backoff : POLL_MS);
        s.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      s.wake = () => undefined;
    }
  }

  private async createMember(s: LabState, owner: string): Promise<void> {
    const ac = new AbortController();
    s.creating.set(owner, ac);
    const started = Date.now();
    let env: Environment | undefined;
    try {
      const { lab } = s.cfg;
      env = await s.driver.create(
        { owner, lab: s.slug, labRoot: lab.root, environment: lab.track.environment },
        (p) => this.log.debug({ lab: s.slug, owner, ...p }, 'pool member progress'),
        ac.signal,
      );
      if (ac.signal.aborted) throw new Error('pool stopped');
      await this.deps.prepare(env, lab);
      if (ac.signal.aborted) throw new Error('pool stopped');
      s.ready.push({ owner, env, readyAt: this.now() });
      s.stats.created++;
      s.stats.failures = 0;
      s.stats.lastError = undefined;
      this.log.info({ lab: s.slug, owner, ms: Date.now() - started, ready: s.ready.length, size: s.cfg.size }, 'pool member ready');
    } catch (e) {
      if (!ac.signal.aborted) this.failed(s, owner, e as Error);
      await this.destroy(s, owner, env);
      this.deps.capacity.release(owner);
    } finally {
      s.creating.delete(owner);
    }
  }

  private failed(s: LabState, owner: string, err: Error) {
    s.stats.failures++;
    s.stats.lastError = err.message;
    const { initialMs, maxMs } = this.deps.backoff ?? { initialMs: 2_000, maxMs: 5 * 60_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** (s.stats.failures - 1));
    s.backoffUntil = Date.now() + delay;
    this.log.warn({ lab: s.slug, owner, failures: s.stats.failures, retryInMs: delay, err: err.message }, 'pool member could not be prepared; will retry');
  }

  private async discard(s: LabState, m: Member, why: string): Promise<void> {
    if (!this.stopped) s.stats.recycled++;
    this.log.info({ lab: s.slug, owner: m.owner, why }, 'pool member discarded');
    await this.destroy(s, m.owner, m.env);
    this.deps.capacity.release(m.owner);
    s.wake();
  }

  private async destroy(s: LabState, owner: string, env?: Environment) {
    try {
      await (env ? s.driver.destroy(env) : s.driver.destroyOwner(owner));
    } catch (e) {
      // The reconciler removes it later: once it leaves ownedBy() it is an orphan.
      this.log.error({ lab: s.slug, owner, err: (e as Error).message }, 'destroying a pool member failed');
    }
  }

  /** Wakes loops that wait for room, and gives idle members back while learners queue. */
  private onCapacityChange() {
    if (this.stopped) return;
    for (const s of this.labs.values()) if (s.ready.length + s.creating.size < s.cfg.size) s.wake();
    if (this.evicting || !this.deps.capacity.snapshot().queued.length) return;
    const victim = [...this.labs.values()].flatMap((s) => s.ready.map((m) => ({ s, m }))).sort((a, b) => a.m.readyAt - b.m.readyAt)[0];
    if (!victim) return;
    this.evicting = true;
    victim.s.ready = victim.s.ready.filter((m) => m !== victim.m);
    // discard releases the ticket, which fires onChange again: one member at a time.
    void this.discard(victim.s, victim.m, 'learners are waiting for capacity').finally(() => {
      this.evicting = false;
      this.onCapacityChange();
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
