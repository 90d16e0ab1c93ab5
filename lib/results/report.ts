/**
 * Results for graders and instructors: per session, its learner (the grader's own id for them;
 * never the cookie id, which is a credential), lab, status and score, and per challenge its
 * status, Check attempts, first pass, time to pass and the last FAIL message. Read from the
 * database only (sessions, challenge progress, check runs): a stopped server's results are there.
 */
import type { Db } from '../db/client';

export interface ResultsQuery {
  /** Lab slugs to include; 'all' for every lab. */
  labs: string[] | 'all';
  /** The grader's id for a learner (Session.learnerRef). */
  learner?: string;
  /**
   * The grader's token asking. Learner ids are a token's own: they are shown, and matched, only on
   * the sessions that token started. Unset: an operator (the CLI), who sees every learner id.
   */
  tokenId?: string;
  /** Sessions created at or after this time. */
  since?: Date;
  /** At most this many sessions, oldest first (the rest: `truncated`, and ask again with `since`). */
  limit: number;
}

export interface ChallengeResult {
  slug: string;
  index: number;
  /** locked | active | completed | skipped */
  status: string;
  /** Checks (and quiz tries) run on it. */
  attempts: number;
  firstPassAt: string | null;
  /** From the challenge's start to its first passing Check. */
  secondsToPass: number | null;
  /** The message of the last failed Check, as the learner saw it. */
  lastFailure: string | null;
}

export interface SessionResult {
  session: string;
  learner: string | null;
  lab: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  score: { passed: number; total: number };
  challenges: ChallengeResult[];
}

export interface Results {
  results: SessionResult[];
  /** More sessions match than `limit`: ask again with `since` = the last one's createdAt. */
  truncated: boolean;
}

export async function readResults(db: Db, q: ResultsQuery): Promise<Results> {
  const rows = await db.session.findMany({
    where: {
      ...(q.labs === 'all' ? {} : { labSlug: { in: q.labs } }),
      ...(q.learner !== undefined ? { learnerRef: q.learner, ...(q.tokenId ? { tokenId: q.tokenId } : {}) } : {}),
      ...(q.since ? { createdAt: { gte: q.since } } : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: q.limit + 1,
    include: { challenges: { orderBy: { index: 'asc' } } },
  });
  const sessions = rows.slice(0, q.limit);
  // One query for every check run of these sessions, oldest first, with only what results need.
  const runs = await db.checkRun.findMany({
    where: { sessionId: { in: sessions.map((s) => s.id) } },
    orderBy: { createdAt: 'asc' },
    select: { sessionId: true, challenge: true, passed: true, message: true, createdAt: true },
  });
  const runsOf = new Map<string, typeof runs>();
  for (const r of runs) {
    const key = `${r.sessionId}/${r.challenge}`;
    runsOf.set(key, [...(runsOf.get(key) ?? []), r]);
  }
  const results = sessions.map((s): SessionResult => {
    const challenges = s.challenges.map((c): ChallengeResult => {
      const mine = runsOf.get(`${s.id}/${c.slug}`) ?? [];
      const firstPass = mine.find((r) => r.passed);
      const lastFail = mine.filter((r) => !r.passed).at(-1);
      const from = c.startedAt ?? s.startedAt;
      return {
        slug: c.slug,
        index: c.index,
        status: c.status,
        attempts: c.attempts,
        firstPassAt: firstPass?.createdAt.toISOString() ?? null,
        secondsToPass: firstPass && from ? Math.max(0, Math.round((firstPass.createdAt.getTime() - from.getTime()) / 1000)) : null,
        lastFailure: lastFail?.message ?? null,
      };
    });
    return {
      session: s.id,
      learner: q.tokenId === undefined || s.tokenId === q.tokenId ? s.learnerRef : null,
      lab: s.labSlug,
      status: s.status,
      createdAt: s.createdAt.toISOString(),
      startedAt: s.startedAt?.toISOString() ?? null,
      endedAt: s.endedAt?.toISOString() ?? null,
      score: { passed: challenges.filter((c) => c.status === 'completed').length, total: challenges.length },
      challenges,
    };
  });
  return { results, truncated: rows.length > q.limit };
}
