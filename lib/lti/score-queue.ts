/**
 * Queued scores as rows (like lib/webhooks/queue.ts, per session instead of per subscription):
 * only a session's oldest pending score is ever due, so an LMS gets a session's scores in order,
 * and a later one waits while an earlier one is retried.
 */
import type { Db } from '../db/client';
import type { LtiPlatform, LtiScore } from '../db/generated/client';

export type DueScore = LtiScore & { platform: LtiPlatform };

const PENDING = { deliveredAt: null, givenUpAt: null };

export async function dueScores(db: Db, now: Date, busy: ReadonlySet<string>, limit: number): Promise<DueScore[]> {
  if (limit <= 0) return [];
  const heads = await db.ltiScore.groupBy({ by: ['sessionId'], where: PENDING, _min: { id: true } });
  const ids = heads.flatMap((h) => (busy.has(h.sessionId) || h._min.id === null ? [] : [h._min.id]));
  if (!ids.length) return [];
  return db.ltiScore.findMany({ where: { id: { in: ids }, nextAttemptAt: { lte: now } }, orderBy: { id: 'asc' }, take: limit, include: { platform: true } });
}

/** Takes a score for one attempt (a lease until `until`); false when another process took it first. */
export async function claimScore(db: Db, s: LtiScore, until: Date): Promise<boolean> {
  const { count } = await db.ltiScore.updateMany({
    where: { id: s.id, attempts: s.attempts, nextAttemptAt: s.nextAttemptAt, ...PENDING },
    data: { nextAttemptAt: until },
  });
  return count === 1;
}

export async function recordScore(db: Db, id: number, outcome: { ok: boolean; status: number | null; error: string | null }, now: Date, retry: Date | null) {
  const after = { attempts: { increment: 1 }, lastStatus: outcome.status, lastError: outcome.error };
  const data = outcome.ok ? { ...after, deliveredAt: now } : retry ? { ...after, nextAttemptAt: retry } : { ...after, givenUpAt: now };
  await db.ltiScore.update({ where: { id }, data });
}

export async function pruneScores(db: Db, before: Date): Promise<number> {
  const { count } = await db.ltiScore.deleteMany({ where: { OR: [{ deliveredAt: { lt: before } }, { givenUpAt: { lt: before } }] } });
  return count;
}
