/**
 * Sessions whose preparing replica is gone (lib/replicas/registry.ts: not seen for a while, or left)
 * are handed back to the job queue: the claim is dropped (one replica does it: the update names the
 * replica it replaces) and the queue retries the job, on whichever replica takes it first. The retry
 * removes what the first attempt left (provisioning.ts). Runs on every replica, every few seconds.
 */
import { PROVISION_QUEUE } from './provisioning';
import type { JobQueue } from '../jobs/queue';
import type { SessionContext } from './context';

/**
 * A session with no replica on it whose job no longer waits or runs (its retries used up, or lost
 * with the database) fails. Only past this age: its job is queued just after its row is written.
 */
const LOST_AFTER_MS = 60_000;

export class Handover {
  constructor(
    private ctx: SessionContext,
    private jobs: JobQueue,
  ) {}

  /** Hands over the sessions of replicas not in `live`; how many. */
  async pass(live: Set<string>): Promise<number> {
    const { repo } = this.ctx;
    let handed = 0;
    for (const row of await repo.preparedByGone(live)) {
      if (!(await repo.dropClaim(row.id, row.replicaId!))) continue; // another replica handed it over first, or it ended
      handed++;
      this.ctx.log.warn(
        { session: row.id, from: row.replicaId, job: row.provisionJob },
        'replica gone while preparing a session: its job goes back to the queue',
      );
      if (row.provisionJob) await this.jobs.retry(PROVISION_QUEUE, row.provisionJob, `replica ${row.replicaId} stopped while preparing it`);
    }
    await this.failLost();
    return handed;
  }

  /**
   * Retries used up, or a job lost with its database: the learner is told instead of waiting
   * forever. A session whose job still waits for a replica (all busy) waits on, however long.
   */
  private async failLost(): Promise<void> {
    const before = new Date(this.ctx.now().getTime() - LOST_AFTER_MS);
    for (const row of await this.ctx.repo.unclaimedSince(before)) {
      if (row.provisionJob && (await this.jobs.pending(PROVISION_QUEUE, row.provisionJob))) continue;
      await this.ctx.ending.fail(
        row,
        this.ctx.deps.catalog.get(row.labSlug) ?? null,
        'its preparation was lost (the servers preparing it stopped): start the lab again',
      );
    }
  }
}
