/**
 * The warm pool of replicas sharing PostgreSQL: one pool for the platform, not one per replica.
 * Members are rows (ledger.ts) any replica's session claims. Keeping the pools full is the `pool`
 * job, a periodic pass that one replica at a time runs (lib/jobs/, started by lib/runtime/start.ts):
 * it forgets what gone replicas were making, discards members that are too old, unhealthy, beyond
 * their lab's size or of a lab no longer pooled, and makes the missing ones, one at a time per
 * lab, in the provisioning limit behind every learner. Members outlive the replica that made them:
 * a replica that stops leaves its ready members to the others.
 *
 * Capacity is each replica's (capacity.ts): the replica making a member holds its ticket, the
 * others hold one for it at their capacity sync (syncCapacity) and drop it once it is claimed or
 * gone. While learners queue for capacity on a replica, it gives ready members back, oldest first.
 */
import type { Lab } from '../../labs/schema';
import type { Logger } from '../../base/log';
import type { Db } from '../../db/client';
import { PRIORITY, type Limiter } from '../../base/limiter';
import type { Capacity } from '../capacity';
import type { Environment, EnvironmentDriver } from '../driver';
import { acceptPoolLabs, poolDriverFor, type Pool, type PoolStats } from './contract';
import { PoolLedger, type MemberRow } from './ledger';
import { backoffAfterFailure, newPoolOwner, POOL_OWNER_PREFIX, type PoolLabConfig, type PoolLabStats } from './members';

export interface SharedPoolDeps {
  db: Db;
  /** One driver, or the drivers by name (`environment.driver`). */
  driver: EnvironmentDriver | Record<string, EnvironmentDriver>;
  capacity: Capacity;
  /** The server's provisioning limit: a member is made in its turn, behind every learner's start. */
  limiter?: Limiter;
  log: Logger;
  /** Track setup, with no session variables. Throws (a human message) when it fails. */
  prepare: (env: Environment, lab: Lab) => Promise<void>;
  /** This replica (its members' rows name it) and the live ones (a gone one's creations are leftovers). */
  replicaId: string;
  liveReplicas: () => Promise<Set<string>>;
  now?: () => number;
  /** Delay after a failed creation before the lab is tried again: initialMs, doubling, up to maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  /** How often a pass checks ready members' hosts. Default 60 s. */
  healthEveryMs?: number;
  /** A claimed member stays in ownedBy() this long, until its session has stored it. Default 5 min. */
  claimGraceMs?: number;
  /** A pass starts no new member after this long, so the next pass's discards are not held up. Default 60 s. */
  passBudgetMs?: number;
}

interface PooledLab {
  cfg: PoolLabConfig;
  driver: EnvironmentDriver;
  cost: number;
  /** This replica's counts (every replica keeps its own; the members themselves are counted from the rows). */
  counts: Omit<PoolLabStats, 'lab' | 'size' | 'ready' | 'creating' | 'oldestMs'>;
  backoffUntil: number;
}

/** Why a lab cannot be in the shared pool though it could be in one server's. */
function sharedRefusal(lab: Lab): string | undefined {
  return lab.track.environment.driver === 'kind'
    ? "a kind cluster's kubeconfig stays in the data directory of the replica that made it: on PostgreSQL (replicas), kind labs start cold"
    : undefined;
}

export class SharedPool implements Pool {
  private readonly ledger: PoolLedger;
  private readonly labs = new Map<string, PooledLab>();
  private readonly refused: PoolStats['refused'];
  private readonly log: Logger;
  private readonly now: () => number;
  /** Members this replica is making, by owner. */
  private readonly creating = new Map<string, AbortController>();
  private healthAt = 0;
  private passing?: Promise<void>;
  private evicting?: Promise<void>;
  private started = false;
  private stopped = false;
  private unsubscribe?: () => void;

  constructor(
    labs: PoolLabConfig[],
    private readonly deps: SharedPoolDeps,
  ) {
    this.log = deps.log.child({ module: 'pool' });
    this.now = deps.now ?? Date.now;
    this.ledger = new PoolLedger(deps.db);
    const { accepted, refused } = acceptPoolLabs(labs, poolDriverFor(deps.driver), this.log, sharedRefusal);
    this.refused = refused;
    for (const [slug, { cfg, driver }] of accepted) {
      const counts = { claimed: 0, misses: 0, created: 0, recycled: 0, failures: 0 };
      this.labs.set(slug, { cfg, driver, cost: deps.capacity.costOf(cfg.lab), counts, backoffUntil: 0 });
    }
  }

  /** The passes make the members; this replica only starts giving them back while its learners queue. */
  fill(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.unsubscribe = this.deps.capacity.onChange(() => this.giveBackWhileQueued());
  }

  async claim(labSlug: string, holder?: string): Promise<Environment | undefined> {
    const lab = this.labs.get(labSlug);
    if (!lab || this.stopped) return undefined;
    const row = await this.ledger.claim(labSlug, new Date(this.now()));
    if (!row?.env) {
      lab.counts.misses++;
      return undefined;
    }
    // This replica holds the member's ticket when it made it or synced it; else the holder takes a new one.
    const { capacity } = this.deps;
    if (holder && !capacity.transfer(row.owner, holder)) capacity.hold({ id: holder, cost: lab.cost });
    lab.counts.claimed++;
    this.log.info(
      { lab: labSlug, owner: row.owner, holder, madeBy: row.replicaId, ageMs: this.now() - (row.readyAt?.getTime() ?? this.now()) },
      'pool member claimed',
    );
    return row.env;
  }

  async ownedBy(): Promise<Set<string>> {
    const owners = new Set((await this.ledger.list()).map((r) => r.owner));
    for (const owner of this.creating.keys()) owners.add(owner);
    return owners;
  }

  /** One pass of the `pool` job (see the header). A member's failure is logged and backed off, not thrown. */
  async refill(): Promise<void> {
    if (this.stopped) return;
    this.passing = this.pass().finally(() => (this.passing = undefined));
    await this.passing;
  }

  /**
   * Counts the other replicas' members in this replica's capacity, and stops counting those claimed
   * or gone (on the replicas' heartbeat, with the sessions' sync in lib/sessions/housekeeping.ts).
   */
  async syncCapacity(): Promise<void> {
    const { capacity } = this.deps;
    const rows = (await this.ledger.list()).filter((r) => r.state !== 'claimed');
    const present = new Set(rows.map((r) => r.owner));
    for (const r of rows) {
      const lab = this.labs.get(r.lab);
      if (lab && !this.creating.has(r.owner) && capacity.position(r.owner) === undefined) capacity.hold({ id: r.owner, cost: lab.cost });
    }
    for (const { id } of capacity.snapshot().running) {
      if (id.startsWith(POOL_OWNER_PREFIX) && !present.has(id) && !this.creating.has(id)) capacity.release(id);
    }
  }

  async stats(): Promise<PoolStats> {
    const rows = await this.ledger.list();
    const now = this.now();
    const labs = [...this.labs].map(([slug, lab]) => {
      const ready = rows.filter((r) => r.lab === slug && r.state === 'ready');
      const readyAt = ready.map((r) => r.readyAt?.getTime() ?? now);
      return {
        lab: slug,
        size: lab.cfg.size,
        ready: ready.length,
        creating: rows.filter((r) => r.lab === slug && r.state === 'creating').length,
        ...lab.counts,
        oldestMs: readyAt.length ? now - Math.min(...readyAt) : undefined,
      };
    });
    return { labs, refused: [...this.refused] };
  }

  async untilReady(labSlug: string, count?: number, timeoutMs = 300_000): Promise<void> {
    const lab = this.labs.get(labSlug);
    if (!lab) throw new Error(`lab "${labSlug}" is not pooled${this.refusal(labSlug) ? `: ${this.refusal(labSlug)}` : ''}`);
    const want = count ?? lab.cfg.size;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = (await this.ledger.list()).filter((r) => r.lab === labSlug && r.state === 'ready').length;
      if (ready >= want) return;
      if (this.stopped) throw new Error('the pool was stopped');
      if (Date.now() > deadline) {
        const last = lab.counts.lastError;
        throw new Error(`pool for ${labSlug} has ${ready}/${want} ready after ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  refusal(labSlug: string): string | undefined {
    return this.refused.find((r) => r.lab === labSlug)?.reason;
  }

  /** Stops making members (the ones under way are aborted and removed). Ready members stay for the other replicas. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.creating.forEach((ac) => ac.abort());
    await Promise.all([this.passing, this.evicting]);
  }

  private async pass(): Promise<void> {
    const now = this.now();
    const live = await this.deps.liveReplicas();
    const rows: MemberRow[] = [];
    const discard = new Map<MemberRow, string>();
    for (const r of await this.ledger.list()) {
      const lab = this.labs.get(r.lab);
      if (r.state === 'creating' && !live.has(r.replicaId)) await this.forget(r, 'the replica making it is gone');
      // The claiming session has stored the environment by now: the reconciler sees it through the session.
      else if (r.state === 'claimed' && now - (r.claimedAt?.getTime() ?? 0) >= (this.deps.claimGraceMs ?? 5 * 60_000)) await this.ledger.remove(r.owner);
      else if (r.state === 'claimed') continue;
      else if (r.state === 'ready' && !lab) discard.set(r, 'its lab is no longer pooled');
      else if (r.state === 'ready' && now - (r.readyAt?.getTime() ?? now) >= lab!.cfg.ttlMs) discard.set(r, 'older than the TTL');
      else rows.push(r); // being made, or ready and kept so far
    }
    for (const [slug, lab] of this.labs) {
      // A size lowered since they were made: the oldest go.
      const kept = rows.filter((r) => r.lab === slug);
      const extra = kept.length - lab.cfg.size;
      for (const r of kept.filter((k) => k.state === 'ready').slice(0, Math.max(0, extra))) discard.set(r, 'beyond the pool size');
    }
    if (now - this.healthAt >= (this.deps.healthEveryMs ?? 60_000)) {
      this.healthAt = now;
      const ready = rows.filter((r) => r.state === 'ready' && r.env && !discard.has(r));
      await Promise.all(
        ready.map(async (r) => {
          const health = await this.driverOf(r)
            .health(r.env!)
            .catch((e: Error) => ({ ok: true, detail: e.message }));
          if (!health.ok) discard.set(r, `unhealthy: ${health.detail ?? 'unknown'}`);
        }),
      );
    }
    await Promise.all([...discard].map(([r, why]) => this.discard(r, why)));

    const after = await this.ledger.list();
    const deadline = Date.now() + (this.deps.passBudgetMs ?? 60_000);
    await Promise.all(
      [...this.labs].map(async ([slug, lab]) => {
        let have = after.filter((r) => r.lab === slug && r.state !== 'claimed').length;
        while (have < lab.cfg.size && !this.stopped && Date.now() < deadline && Date.now() >= lab.backoffUntil) {
          if (!(await this.create(slug, lab))) break;
          have++;
        }
      }),
    );
  }

  /** Makes one member; false when there is no room for it now or it failed. */
  private async create(slug: string, lab: PooledLab): Promise<boolean> {
    const { capacity, limiter } = this.deps;
    const owner = newPoolOwner();
    const ac = new AbortController();
    // Listed before its ticket is taken, so that a capacity sync meanwhile does not drop the ticket.
    this.creating.set(owner, ac);
    const started = Date.now();
    let env: Environment | undefined;
    try {
      if (!capacity.tryAcquire({ id: owner, cost: lab.cost })) return false;
      await this.ledger.creating(owner, slug, this.deps.replicaId);
      const build = async () => {
        env = await lab.driver.create({ owner, lab: slug, labRoot: lab.cfg.lab.root, environment: lab.cfg.lab.track.environment }, () => undefined, ac.signal);
        if (ac.signal.aborted) throw new Error('pool stopped');
        await this.deps.prepare(env, lab.cfg.lab);
      };
      // Background priority: a member waits while any learner's start waits for the same limit.
      await (limiter ? limiter.run(build, { id: owner, priority: PRIORITY.background, signal: ac.signal }) : build());
      if (ac.signal.aborted || !env) throw new Error('pool stopped');
      if (!(await this.ledger.ready(owner, env, new Date(this.now())))) throw new Error('its row was removed while it was made');
      Object.assign(lab.counts, { created: lab.counts.created + 1, failures: 0, lastError: undefined });
      this.log.info({ lab: slug, owner, ms: Date.now() - started }, 'pool member ready');
      return true;
    } catch (e) {
      if (!ac.signal.aborted) this.failed(slug, lab, owner, e as Error);
      await this.destroy(owner, lab.driver, env);
      await this.ledger.remove(owner).catch((err: Error) => this.log.warn({ owner, err: err.message }, 'could not remove a pool row'));
      capacity.release(owner);
      return false;
    } finally {
      this.creating.delete(owner);
    }
  }

  /** Destroys a ready member, unless a session claimed it first. */
  private async discard(r: MemberRow, why: string): Promise<boolean> {
    if (!(await this.ledger.take(r.owner))) return false;
    const lab = this.labs.get(r.lab);
    if (lab) lab.counts.recycled++;
    this.log.info({ lab: r.lab, owner: r.owner, why }, 'pool member discarded');
    await this.destroy(r.owner, this.driverOf(r), r.env);
    this.deps.capacity.release(r.owner);
    return true;
  }

  /** A member a gone replica was making: its row and whatever it had made. */
  private async forget(r: MemberRow, why: string): Promise<void> {
    await this.ledger.remove(r.owner);
    this.log.info({ lab: r.lab, owner: r.owner, replica: r.replicaId, why }, 'unfinished pool member removed');
    await this.destroy(r.owner, this.driverOf(r), r.env);
  }

  /** While learners wait for capacity here, ready members go, oldest first, one at a time. */
  private giveBackWhileQueued(): void {
    if (this.stopped || this.evicting || !this.deps.capacity.snapshot().queued.length) return;
    const giveBackOldest = async () => {
      const ready = (await this.ledger.list()).filter((r) => r.state === 'ready');
      const oldest = ready.sort((a, b) => (a.readyAt?.getTime() ?? 0) - (b.readyAt?.getTime() ?? 0))[0];
      return oldest ? this.discard(oldest, 'learners are waiting for capacity') : false;
    };
    this.evicting = giveBackOldest()
      .catch((e: Error) => {
        this.log.warn({ err: e.message }, 'could not give a pool member back');
        return false;
      })
      .then((gaveBack) => {
        this.evicting = undefined;
        // Its ticket went back, which may have admitted a learner: another one goes if some still wait.
        if (gaveBack) this.giveBackWhileQueued();
      });
  }

  private failed(slug: string, lab: PooledLab, owner: string, err: Error): void {
    const delay = backoffAfterFailure(lab.counts, err, this.deps.backoff);
    lab.backoffUntil = Date.now() + delay;
    this.log.warn({ lab: slug, owner, failures: lab.counts.failures, retryInMs: delay, err: err.message }, 'pool member could not be prepared; will retry');
  }

  private driverOf(r: MemberRow): EnvironmentDriver {
    const d = this.deps.driver;
    if ('create' in d && typeof d.create === 'function') return d as EnvironmentDriver;
    return this.labs.get(r.lab)?.driver ?? (d as Record<string, EnvironmentDriver>)[r.env?.driver ?? 'docker'];
  }

  private async destroy(owner: string, driver: EnvironmentDriver | undefined, env?: Environment): Promise<void> {
    try {
      if (driver) await (env ? driver.destroy(env) : driver.destroyOwner(owner));
    } catch (e) {
      // Once its row is gone the reconciler takes it for a leftover and removes it later.
      this.log.error({ owner, err: (e as Error).message }, 'destroying a pool member failed');
    }
  }
}
