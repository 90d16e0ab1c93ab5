/**
 * The in-process warm pool (one server; replicas share shared.ts instead, contract.ts says what
 * both offer): per lab, N environments created and track-setup'd ahead of time,
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
 * Each lab's members and refill loop live in members.ts; this is the pool across labs.
 */
import type { Logger } from '../../base/log';
import type { Environment, EnvironmentDriver } from '../driver';
import { acceptPoolLabs, poolDriverFor, type Pool, type PoolStats } from './contract';
import { LabMembers, type MemberDeps, type PoolLabConfig } from './members';

export interface PoolDeps extends MemberDeps {
  /** One driver, or the drivers by name (`environment.driver`) like the session service has. */
  driver: EnvironmentDriver | Record<string, EnvironmentDriver>;
  log: Logger;
  /** How often recycle() runs by itself once fill() started; 0 turns it off. */
  recycleEveryMs?: number;
  /** Claimed owners stay in ownedBy() this long, covering the gap before the session stores its environment. */
  claimGraceMs?: number;
}

export class WarmPool implements Pool {
  private labs = new Map<string, LabMembers>();
  private refused: Array<{ lab: string; reason: string }> = [];
  private claimedAt = new Map<string, number>();
  private log: Logger;
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
    const { accepted, refused } = acceptPoolLabs(labs, poolDriverFor(deps.driver), this.log);
    this.refused = refused;
    for (const [slug, { cfg, driver }] of accepted) this.labs.set(slug, new LabMembers(slug, cfg, driver, deps.capacity.costOf(cfg.lab), deps, this.log));
  }

  /** Starts the background fill loops (one per lab) and periodic recycling. Idempotent. */
  fill(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.unsubscribe = this.deps.capacity.onChange(() => this.onCapacityChange());
    for (const s of this.labs.values()) s.fill();
    const every = this.deps.recycleEveryMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.recycle().catch((e: Error) => this.log.error({ err: e.message }, 'recycle failed')), every);
      this.timer.unref();
    }
  }

  /**
   * Instant (a ready list in memory). The ticket stays under env.owner when no `holder` is given:
   * the caller releases it with capacity.release(holder) when the environment goes.
   */
  async claim(labSlug: string, holder?: string): Promise<Environment | undefined> {
    const s = this.labs.get(labSlug);
    if (!s || this.stopped) return undefined;
    const m = s.claim(holder);
    if (m) this.claimedAt.set(m.owner, Date.now());
    return m?.env;
  }

  async ownedBy(): Promise<Set<string>> {
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
    const perLab = await Promise.all([...this.labs.values()].map((s) => s.recycle()));
    return { recycled: perLab.flat() };
  }

  /** Stops filling and destroys every unclaimed member (waits for creations in flight to end). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await Promise.all([...this.labs.values()].map((s) => s.stop()));
  }

  async untilReady(labSlug: string, count?: number, timeoutMs = 300_000): Promise<void> {
    const s = this.labs.get(labSlug);
    if (!s) throw new Error(`lab "${labSlug}" is not pooled${this.refusal(labSlug) ? `: ${this.refusal(labSlug)}` : ''}`);
    const want = count ?? s.cfg.size;
    const deadline = Date.now() + timeoutMs;
    while (s.ready.length < want) {
      if (this.stopped) throw new Error('the pool was stopped');
      if (Date.now() > deadline) {
        throw new Error(`pool for ${labSlug} has ${s.ready.length}/${want} ready after ${timeoutMs} ms${s.lastError ? ` (last error: ${s.lastError})` : ''}`);
      }
      await sleep(100);
    }
  }

  refusal(labSlug: string): string | undefined {
    return this.refused.find((r) => r.lab === labSlug)?.reason;
  }

  async stats(): Promise<PoolStats> {
    return { labs: [...this.labs.values()].map((s) => s.stats()), refused: [...this.refused] };
  }

  /** Wakes loops that wait for room, and gives idle members back while learners queue. */
  private onCapacityChange() {
    if (this.stopped) return;
    for (const s of this.labs.values()) if (s.short()) s.wake();
    if (this.evicting || !this.deps.capacity.snapshot().queued.length) return;
    const victim = [...this.labs.values()].flatMap((s) => s.ready.map((m) => ({ s, m }))).sort((a, b) => a.m.readyAt - b.m.readyAt)[0];
    if (!victim) return;
    this.evicting = true;
    victim.s.ready = victim.s.ready.filter((m) => m !== victim.m);
    // discard releases the ticket, which fires onChange again: one member at a time.
    void victim.s.discard(victim.m, 'learners are waiting for capacity').finally(() => {
      this.evicting = false;
      this.onCapacityChange();
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
