/**
 * Sessions counted for the metrics, from the database: every replica sees the same numbers. Two
 * grouped reads whose answers are bounded (states; live states × labs) and whose work is too: the
 * first walks the status index, the second only the live rows. The answer is kept a few seconds
 * and one read serves every scrape that comes meanwhile, so scrapers (several Prometheus, a
 * dashboard refreshing) cannot make the database busier than one read per interval.
 */
import type { Db } from '../db/client';
import { LIVE_STATUSES, type SessionStatus } from '../sessions/view';

export interface SessionCounts {
  /** Every known state, 0 included (a series that exists from the start is simpler to alert on). */
  byState: Record<SessionStatus, number>;
  live: Array<{ lab: string; state: SessionStatus; count: number }>;
}

const STATES: SessionStatus[] = ['provisioning', 'active', 'completed', 'expired', 'failed', 'stopped'];
export const SESSION_COUNTS_MAX_AGE_MS = 5000;

export async function countSessions(db: Db): Promise<SessionCounts> {
  const byState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<SessionStatus, number>;
  const states = await db.session.groupBy({ by: ['status'], _count: { _all: true } });
  for (const row of states) if (row.status in byState) byState[row.status as SessionStatus] = row._count._all;
  const live = await db.session.groupBy({ by: ['labSlug', 'status'], where: { status: { in: LIVE_STATUSES } }, _count: { _all: true } });
  return { byState, live: live.map((r) => ({ lab: r.labSlug, state: r.status as SessionStatus, count: r._count._all })) };
}

/** `read`, reused for `maxAgeMs` after it answered; concurrent callers share the read under way. A failed read is not kept. */
export function cached<T>(read: () => Promise<T>, maxAgeMs = SESSION_COUNTS_MAX_AGE_MS, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let inflight: Promise<T> | undefined;
  return () => {
    if (last && now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    inflight ??= read()
      .then((value) => {
        last = { at: now(), value };
        return value;
      })
      .finally(() => (inflight = undefined));
    return inflight;
  };
}
