/**
 * The dashboard's table: every live session with what an instructor looks for first (who, which
 * lab, which challenge, for how long, how many failed checks and the last failure's message), and
 * the terminal tabs the learner has so far (to watch). One query per kind of fact, not per session.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import type { LabCatalog } from '../labs/catalog';
import { LIVE_STATUSES, tabId } from '../sessions/view';

export interface LiveSession {
  id: string;
  status: string;
  learner: string;
  invite: { id: string; name: string } | null;
  lab: string;
  labTitle: string;
  challenge: { index: number; title: string } | null;
  challengeCount: number;
  createdAt: string;
  startedAt: string | null;
  expiresAt: string | null;
  lastActiveAt: string;
  failedChecks: number;
  lastFail: { message: string; challenge: string; at: string } | null;
  terminals: Array<{ id: string; title: string }>;
}

/** The most sessions the table shows (the oldest first past it are left out, and the page says so). */
export const LIVE_LIMIT = 500;

/**
 * How a learner shows: the name an invite or grader gave, else a stable pseudonym. Never the
 * learner id itself: it is the learner's cookie.
 */
export function learnerLabel(row: { learnerId: string; learnerName: string | null; learnerRef: string | null }): string {
  if (row.learnerName) return row.learnerName;
  if (row.learnerRef) return row.learnerRef;
  return `learner-${crypto.createHash('sha256').update(row.learnerId).digest('hex').slice(0, 6)}`;
}

export async function liveSessions(db: Db, catalog: LabCatalog, filter: { inviteId?: string; lab?: string } = {}): Promise<LiveSession[]> {
  const rows = await db.session.findMany({
    where: { status: { in: LIVE_STATUSES }, inviteId: filter.inviteId, labSlug: filter.lab },
    orderBy: { createdAt: 'desc' },
    take: LIVE_LIMIT,
    include: { invite: { select: { id: true, name: true } } },
  });
  const ids = rows.map((r) => r.id);
  const [failures, lastFails] = await Promise.all([
    db.checkRun.groupBy({ by: ['sessionId'], where: { sessionId: { in: ids }, passed: false }, _count: { _all: true } }),
    db.checkRun.findMany({
      where: { sessionId: { in: ids }, passed: false },
      orderBy: { createdAt: 'desc' },
      distinct: ['sessionId'],
      select: { sessionId: true, message: true, challenge: true, createdAt: true },
    }),
  ]);
  const failed = new Map(failures.map((f) => [f.sessionId, f._count._all]));
  const last = new Map(lastFails.map((f) => [f.sessionId, f]));
  return rows.map((row) => {
    const lab = catalog.get(row.labSlug);
    const current = lab?.challenges[row.currentIndex];
    const seen = new Map<string, string>();
    for (const c of lab?.challenges.slice(0, row.currentIndex + 1) ?? [])
      for (const t of c.tabs) if (t.type === 'terminal' && !seen.has(tabId(t.title))) seen.set(tabId(t.title), t.title);
    const fail = last.get(row.id);
    const challengeTitle = (slug: string) => lab?.challenges.find((c) => c.slug === slug)?.title ?? slug;
    return {
      id: row.id,
      status: row.status,
      learner: learnerLabel(row),
      invite: row.invite,
      lab: row.labSlug,
      labTitle: lab?.track.title ?? row.labSlug,
      challenge: current ? { index: current.index, title: current.title } : null,
      challengeCount: lab?.challenges.length ?? 0,
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      expiresAt: row.expiresAt?.toISOString() ?? null,
      lastActiveAt: row.lastActiveAt.toISOString(),
      failedChecks: failed.get(row.id) ?? 0,
      lastFail: fail ? { message: fail.message, challenge: challengeTitle(fail.challenge), at: fail.createdAt.toISOString() } : null,
      terminals: [...seen].map(([id, title]) => ({ id, title })),
    };
  });
}
