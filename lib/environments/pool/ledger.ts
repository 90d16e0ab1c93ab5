/**
 * The shared pool's members as rows (PoolMember), which every replica reads and claims. A row is
 * `creating` while a replica makes its environment, `ready` once track setup ran, and `claimed`
 * for a grace period after a session took it: until that session has stored the environment, the
 * reconciler must still find the owner kept by someone. Taking a row is one conditional update,
 * so two replicas never take the same member.
 */
import type { Db } from '../../db/client';
import type { PoolMember } from '../../db/generated/client';
import type { Environment } from '../driver';

export type MemberState = 'creating' | 'ready' | 'claimed';

export interface MemberRow {
  owner: string;
  lab: string;
  state: MemberState;
  replicaId: string;
  env?: Environment;
  createdAt: Date;
  readyAt?: Date;
  claimedAt?: Date;
}

/** Ready members a claim reads at once: it tries them from a random one on, so claims at once seldom collide. */
const CLAIM_WINDOW = 16;

export class PoolLedger {
  constructor(private readonly db: Db) {}

  /** Every member, oldest first. */
  async list(): Promise<MemberRow[]> {
    return (await this.db.poolMember.findMany({ orderBy: { createdAt: 'asc' } })).map(fromRow);
  }

  /** Members per lab and state (for `labforge status`). */
  async counts(): Promise<Array<{ lab: string; state: MemberState; count: number }>> {
    const groups = await this.db.poolMember.groupBy({ by: ['lab', 'state'], _count: { _all: true }, orderBy: [{ lab: 'asc' }, { state: 'asc' }] });
    return groups.map((g) => ({ lab: g.lab, state: g.state as MemberState, count: g._count._all }));
  }

  async creating(owner: string, lab: string, replicaId: string): Promise<void> {
    await this.db.poolMember.create({ data: { owner, lab, replicaId, state: 'creating' } });
  }

  /** A creation finished; false when its row was removed meanwhile (judged a leftover): the caller destroys it. */
  async ready(owner: string, env: Environment, at: Date): Promise<boolean> {
    const { count } = await this.db.poolMember.updateMany({
      where: { owner, state: 'creating' },
      data: { state: 'ready', environment: JSON.stringify(env), readyAt: at },
    });
    return count === 1;
  }

  /**
   * Takes one of the oldest ready members of `lab` for a session; undefined only when none is left.
   * Every lost race means another session took a member, so the loop ends with one or with none.
   */
  async claim(lab: string, at: Date): Promise<MemberRow | undefined> {
    for (;;) {
      const oldest = await this.db.poolMember.findMany({ where: { lab, state: 'ready' }, orderBy: { readyAt: 'asc' }, take: CLAIM_WINDOW });
      if (!oldest.length) return undefined;
      const from = Math.floor(Math.random() * oldest.length);
      for (const candidate of [...oldest.slice(from), ...oldest.slice(0, from)]) {
        const taken = await this.db.poolMember.updateMany({ where: { owner: candidate.owner, state: 'ready' }, data: { state: 'claimed', claimedAt: at } });
        if (taken.count === 1) return { ...fromRow(candidate), state: 'claimed', claimedAt: at };
      }
    }
  }

  /** Takes a ready member out of the pool to destroy it (old, unhealthy, given back); false when a session claimed it first. */
  async take(owner: string): Promise<boolean> {
    const { count } = await this.db.poolMember.deleteMany({ where: { owner, state: 'ready' } });
    return count === 1;
  }

  /** Forgets a member, whatever its state (a creation that failed, a claim past its grace, a leftover). */
  async remove(owner: string): Promise<void> {
    await this.db.poolMember.deleteMany({ where: { owner } });
  }
}

function fromRow(r: PoolMember): MemberRow {
  return {
    owner: r.owner,
    lab: r.lab,
    state: r.state as MemberState,
    replicaId: r.replicaId,
    env: r.environment ? (JSON.parse(r.environment) as Environment) : undefined,
    createdAt: r.createdAt,
    readyAt: r.readyAt ?? undefined,
    claimedAt: r.claimedAt ?? undefined,
  };
}
