/**
 * The server processes sharing one database, each a row in `Replica` that it refreshes every few
 * seconds. A replica not seen for `deadAfterMs` is gone (killed, its machine lost, cut off from the
 * database): the others hand its unfinished jobs over (lib/sessions/handover.ts), and the terminals
 * it ran are nobody's (terminal-directory.ts).
 *
 * Clocks: each replica stamps `seenAt` with its own clock and judges the others by it, so machines'
 * clocks must agree to well within `deadAfterMs` (NTP does; the default leaves 15 s).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from '../base/log';
import type { Db } from '../db/client';

export interface ReplicaOptions {
  /** Where the other replicas reach this one (terminal relays); default: none. */
  url?: string;
  /** How often this replica says it is alive; default 5 s. */
  heartbeatMs?: number;
  /** Unseen this long, a replica is gone; default 20 s. */
  deadAfterMs?: number;
  now?: () => number;
}

export class ReplicaRegistry {
  /** This process's id: new on every start, so a restarted server is a new replica. */
  readonly id = crypto.randomBytes(6).toString('hex');
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  private readonly url: string;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    opts: ReplicaOptions = {},
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.deadAfterMs = opts.deadAfterMs ?? 20_000;
    this.url = opts.url ?? '';
    this.now = opts.now ?? Date.now;
  }

  /** Writes this replica's row and keeps it fresh until `stop()`. */
  async start(): Promise<void> {
    await this.beat();
    this.log.info({ replica: this.id }, 'replica registered');
    this.timer = setInterval(() => {
      this.beat().catch((e: Error) => this.log.warn({ replica: this.id, err: e.message }, 'replica heartbeat failed'));
    }, this.heartbeatMs).unref();
  }

  /** The ids of the replicas seen recently (this one included once started). */
  async liveIds(): Promise<Set<string>> {
    const rows = await this.db.replica.findMany({ where: { seenAt: { gt: this.deadline() } }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
  }

  /** Where another replica is reached, if it is live. */
  async urlOf(id: string): Promise<string | undefined> {
    const row = await this.db.replica.findFirst({ where: { id, seenAt: { gt: this.deadline() } }, select: { url: true } });
    return row?.url || undefined;
  }

  /** Rows of replicas gone long ago (twice the dead time: their jobs were handed over by then) are removed, with the terminals they held. */
  async forgetGone(): Promise<number> {
    const gone = await this.db.replica.findMany({ where: { seenAt: { lt: new Date(this.now() - 2 * this.deadAfterMs) } }, select: { id: true } });
    if (!gone.length) return 0;
    const ids = gone.map((r) => r.id);
    // What they held goes with them: the terminals they ran ended when they did.
    await this.db.terminalHolder.deleteMany({ where: { replicaId: { in: ids } } });
    const { count } = await this.db.replica.deleteMany({ where: { id: { in: ids } } });
    return count;
  }

  /** Leaves: the row goes, so the others take over this replica's unfinished jobs at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.db.terminalHolder.deleteMany({ where: { replicaId: this.id } });
    await this.db.replica.deleteMany({ where: { id: this.id } });
  }

  /** Seen before this, a replica is gone. */
  private deadline(): Date {
    return new Date(this.now() - this.deadAfterMs);
  }

  private async beat(): Promise<void> {
    const seenAt = new Date(this.now());
    await this.db.replica.upsert({
      where: { id: this.id },
      update: { seenAt },
      create: { id: this.id, host: os.hostname(), pid: process.pid, url: this.url, startedAt: seenAt, seenAt },
    });
  }
}

export interface ReplicaRow {
  id: string;
  host: string;
  pid: number;
  url: string;
  startedAt: string;
  seenAt: string;
  live: boolean;
  /** Sessions it is preparing now. */
  preparing: number;
}

/** Every replica row (live ones first, newest first), for operators (`labforge status`). */
export async function listReplicas(db: Db, deadAfterMs: number, now = Date.now()): Promise<ReplicaRow[]> {
  const rows = await db.replica.findMany({ orderBy: { startedAt: 'desc' } });
  const preparing = await db.session.groupBy({ by: ['replicaId'], where: { status: 'provisioning', replicaId: { not: null } }, _count: { _all: true } });
  const count = new Map(preparing.map((p) => [p.replicaId, p._count._all]));
  return rows
    .map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      url: r.url,
      startedAt: r.startedAt.toISOString(),
      seenAt: r.seenAt.toISOString(),
      live: r.seenAt.getTime() > now - deadAfterMs,
      preparing: count.get(r.id) ?? 0,
    }))
    .sort((a, b) => Number(b.live) - Number(a.live));
}
