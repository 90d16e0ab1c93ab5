/**
 * What a grader's token reaches: the labs it names, and every session of those labs (whoever
 * started it). Sessions of other labs are answered like sessions that do not exist.
 */
import type { Db, SessionRow } from '../db/client';
import type { GraderToken } from './api-tokens';

export const mayUseLab = (token: Pick<GraderToken, 'labs'>, lab: string) => token.labs === 'all' || token.labs.includes(lab);

/** The session if the token may act on it; null when it does not exist or is of another lab. */
export async function sessionInScope(db: Db, token: GraderToken, id: string): Promise<SessionRow | null> {
  const row = await db.session.findUnique({ where: { id } });
  return row && mayUseLab(token, row.labSlug) ? row : null;
}

/** Sessions of the token's labs (of one learner id, if given), newest first, at most `limit`. */
export function sessionsInScope(db: Db, token: GraderToken, opts: { learnerId?: string; limit: number }): Promise<SessionRow[]> {
  return db.session.findMany({
    where: { ...(token.labs === 'all' ? {} : { labSlug: { in: token.labs } }), ...(opts.learnerId ? { learnerId: opts.learnerId } : {}) },
    orderBy: { createdAt: 'desc' },
    take: opts.limit,
  });
}
