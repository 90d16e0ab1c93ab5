/** What a learner reads of their sessions: each one's view, their list, an earlier challenge. Nothing here writes. */
import type { SessionContext } from './context';
import { SessionError } from './errors';
import { recentMessages } from './messages';
import { challengeView, sessionView, type ChallengeView, type QueueView, type SessionView } from './view';

export class SessionQueries {
  constructor(private ctx: SessionContext) {}

  async get(id: string, learnerId: string): Promise<SessionView> {
    const { row, lab } = await this.ctx.guards.owned(id, learnerId);
    const [progress, messages] = await Promise.all([this.ctx.repo.progressOf(id), recentMessages(this.ctx.deps.db, id)]);
    // `labforge dev`: the watched lab's version and problems; absent otherwise.
    const author = this.ctx.deps.author?.(lab.track.slug);
    // Read live, not from the row: positions move as others finish, without a write per waiter.
    const queue = row.status === 'provisioning' ? (this.ctx.waiting.get(id)?.() ?? (await this.replicaQueue(row))) : undefined;
    return { ...sessionView(row, lab, progress), messages, ...(queue && { queue }), ...(author && { author }) };
  }

  /**
   * A session whose job waits in the database for a replica to take it (replicas busy, or one just
   * gone): its place among those, oldest first. Known on any replica.
   */
  private async replicaQueue(row: { id: string; replicaId: string | null; createdAt: Date }): Promise<QueueView | undefined> {
    if (row.replicaId !== null || !this.ctx.deps.jobs?.shared) return undefined;
    return { waitingFor: 'replica', position: (await this.ctx.repo.unclaimedAhead(row.createdAt)) + 1 };
  }

  /** The newest sessions (their challenges' progress left out); those of labs no longer installed are skipped. */
  async listFor(learnerId: string): Promise<SessionView[]> {
    const views: SessionView[] = [];
    for (const row of await this.ctx.repo.recentOf(learnerId)) {
      const lab = this.ctx.deps.catalog.get(row.labSlug);
      if (lab) views.push(sessionView(row, lab, []));
    }
    return views;
  }

  /** An earlier (or the current) challenge, to look back at: read-only, nothing is rerun. */
  async challengeAt(id: string, learnerId: string, index: number): Promise<ChallengeView> {
    const { row, lab } = await this.ctx.guards.owned(id, learnerId);
    const c = lab.challenges[index];
    if (!c || index > row.currentIndex) throw new SessionError('not_found', `challenge ${index + 1} is not open yet`);
    return challengeView(c);
  }
}
