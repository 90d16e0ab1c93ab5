/**
 * What the server does for sessions on its own: resume them when it starts, end them when their
 * time is up or they sit idle, and tell the reconciler which environments to keep.
 */
import type { Environment } from '../environments/driver';
import { POOL_OWNER_PREFIX } from '../environments/pool/members';
import type { SessionContext } from './context';
import type { HostWatch } from './host-watch';
import { planHosts } from './host-recovery';
import { hostNames, parseHosts } from './hosts';

export class Housekeeping {
  constructor(
    private ctx: SessionContext,
    private hosts: HostWatch,
  ) {}

  /**
   * On server start: resume what can be resumed, fail what was cut off mid-provisioning. With jobs
   * in the database, sessions being prepared are left to their jobs (another replica may be on them
   * right now; handover.ts takes those of replicas that are gone).
   */
  async resumeAll(): Promise<void> {
    const { deps, ending, log } = this.ctx;
    for (const row of await this.ctx.repo.live()) {
      if (row.status === 'provisioning' && deps.jobs?.shared) continue;
      const lab = deps.catalog.get(row.labSlug);
      if (!lab) {
        await ending.fail(row, null, `the lab "${row.labSlug}" is no longer installed`);
        continue;
      }
      if (row.status === 'provisioning') {
        await ending.fail(row, lab, 'the server restarted while this environment was being prepared: start the lab again');
        continue;
      }
      // A host that is gone fails the session; a stopped one is recorded for the learner to restart.
      // An engine that cannot be asked right now (restarting, overloaded) fails nothing: the
      // session is resumed as it was, and the watch pass judges its hosts once the engine answers.
      const states = await this.hosts.statesOf(row, lab).catch((e: Error) => {
        log.warn({ session: row.id, err: e.message }, 'could not read the hosts on resume; the watch pass will');
        return undefined;
      });
      const { gone } = states ? planHosts(states, parseHosts(row.hosts), hostNames(lab), this.ctx.now()) : { gone: undefined };
      if (gone) {
        await ending.fail(row, lab, `the environment is gone (${gone}): start the lab again`);
        continue;
      }
      if (states) await this.hosts.applyHostStates(row, lab, states);
      deps.capacity?.hold({ id: row.id, cost: deps.capacity.costOf(lab) });
      log.info({ session: row.id, hostsRead: !!states }, 'resumed');
    }
  }

  /** Ends sessions past their time limit or idle for longer than their lab allows. Called periodically. */
  async sweep(): Promise<void> {
    const now = this.ctx.now();
    for (const row of await this.ctx.repo.active()) {
      const lab = this.ctx.deps.catalog.get(row.labSlug);
      if (!lab) continue;
      const idleMs = now.getTime() - row.lastActiveAt.getTime();
      const reason =
        row.expiresAt && row.expiresAt < now
          ? 'the time limit was reached'
          : idleMs > lab.track.idle_timeout * 1000
            ? `no activity for ${Math.round(lab.track.idle_timeout / 60)} minutes`
            : undefined;
      if (!reason) continue;
      // Decided again on a fresh read under the lock: a Stop or a Next may have ended it meanwhile.
      await this.ctx.lock.run(row.id, async () => {
        const fresh = await this.ctx.repo.find(row.id);
        if (fresh?.status === 'active') await this.ctx.ending.end(fresh, lab, 'expired', reason);
      });
    }
  }

  /**
   * With several replicas, each one's capacity counts every replica's environments: sessions active
   * anywhere, or being prepared by another replica, hold a ticket here too; tickets of sessions that
   * ended (on whichever replica) are given back. Sessions this replica is preparing hold their own
   * ticket (provisioning.ts); warm-pool members are synced by the shared pool (pool/shared.ts). Two replicas admitting
   * at the same moment can overshoot by what they admit between two passes (a few seconds).
   */
  async syncCapacity(): Promise<void> {
    const capacity = this.ctx.deps.capacity;
    if (!capacity) return;
    const live = await this.ctx.repo.live();
    const liveIds = new Set(live.map((r) => r.id));
    for (const row of live) {
      const lab = this.ctx.deps.catalog.get(row.labSlug);
      const elsewhere = row.status === 'active' || (row.replicaId !== null && row.replicaId !== this.ctx.replica);
      if (!lab || !elsewhere || capacity.position(row.id) !== undefined) continue;
      capacity.hold({ id: row.id, cost: capacity.costOf(lab) });
    }
    for (const { id } of capacity.snapshot().running) {
      if (!id.startsWith(POOL_OWNER_PREFIX) && !liveIds.has(id) && !this.ctx.ending.provisioning.has(id)) capacity.release(id);
    }
  }

  /** Owners whose environments must be kept (for the reconciler): live sessions' and the pool's. */
  async liveOwners(): Promise<Set<string>> {
    const rows = await this.ctx.repo.live();
    const owners = new Set(rows.map((r) => r.id));
    // A claimed pool environment keeps its `pool-…` owner label.
    for (const r of rows) if (r.environment) owners.add((JSON.parse(r.environment) as Environment).owner);
    for (const o of (await this.ctx.deps.pool?.ownedBy()) ?? []) owners.add(o);
    return owners;
  }
}
