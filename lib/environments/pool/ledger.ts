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

/** Claims tried before giving up on a lab whose ready rows other replicas keep taking first. */
const CLAIM_TRIES = 5;

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

  /** Takes the oldest ready member of `lab` for a session; undefined when none is left. */
  async claim(lab: string, at: Date): Promise<MemberRow | undefined> {
    for (let i = 0; i < CLAIM_TRIES; i++) {
      const oldest = await this.db.poolMember.findFirst({ where: { lab, state: 'ready' }, orderBy: { readyAt: 'asc' } });
      if (!oldest) return undefined;
      const { count } = await this.db.poolMember.updateMany({ where: { owner: oldest.owner, state: 'ready' }, data: { state: 'claimed', claimedAt: at } });
      // Another replica took that one first: try the next oldest.
      if (count === 1) return { ...fromRow(oldest), state: 'claimed', claimedAt: at };
    }
    return undefined;
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
