/**
 * The rows analytics need, read with Prisma: only the columns used, and bounded. Sessions are
 * read up to a cap (the newest win; the rest is reported as `truncated`), and every other read
 * is narrowed to those same sessions by a relation filter (a join in SQL, never a list of ids
 * as bound parameters, which SQLite limits). Counts the page only sums (progress per status,
 * failures per message) are grouped in the database; the rest is capped too.
 */
import type { Db } from '../db/client';
import type { Prisma } from '../db/generated/client';
import type { ProgressCount } from './funnel';
import type { FailureCount } from './failures';
import type { QuizRun } from './quiz';
import type { ProgressTimes } from './timings';

export interface Caps {
  /** Sessions counted (the newest). */
  sessions: number;
  /** Rows of one kind read otherwise: completed challenges, distinct failure messages, quiz tries. */
  rows: number;
}
export const CAPS: Caps = { sessions: 10_000, rows: 50_000 };

export interface Scope {
  lab: string;
  invite?: string;
  from: Date;
  to: Date;
}

type SessionWhere = Prisma.SessionWhereInput;

/** A read that may have stopped at its cap. */
export interface Capped<T> {
  rows: T[];
  truncated: boolean;
}

const capped = <T>(rows: T[], cap: number): Capped<T> => ({ rows: rows.slice(0, cap), truncated: rows.length > cap });

export interface ScopedSessions extends Capped<Date> {
  /** The sessions counted, as a filter for the other reads. */
  where: SessionWhere;
}

/** When each session of the scope was created, newest first. */
export async function readSessions(db: Db, scope: Scope, cap = CAPS.sessions): Promise<ScopedSessions> {
  const where: SessionWhere = { labSlug: scope.lab, ...(scope.invite ? { inviteId: scope.invite } : {}), createdAt: { gte: scope.from, lt: scope.to } };
  const found = await db.session.findMany({
    where,
    select: { id: true, createdAt: true },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: cap + 1,
  });
  const { rows, truncated } = capped(found, cap);
  const last = rows.at(-1);
  // Past the cap, the other reads see exactly the sessions kept: after the oldest kept one, in the same order.
  const narrowed: SessionWhere =
    truncated && last ? { AND: [where, { OR: [{ createdAt: { gt: last.createdAt } }, { createdAt: last.createdAt, id: { gte: last.id } }] }] } : where;
  return { rows: rows.map((r) => r.createdAt), truncated, where: narrowed };
}

/** Challenge progress counted per challenge and status. */
export async function readProgressCounts(db: Db, sessions: SessionWhere): Promise<ProgressCount[]> {
  const groups = await db.challengeProgress.groupBy({ by: ['slug', 'index', 'status'], where: { session: sessions }, _count: { _all: true } });
  return groups.map((g) => ({ slug: g.slug, index: g.index, status: g.status, count: g._count._all }));
}

/** Completed challenges with their start and completion, the most recently completed first. */
export async function readCompletions(db: Db, sessions: SessionWhere, cap = CAPS.rows): Promise<Capped<ProgressTimes>> {
  const rows = await db.challengeProgress.findMany({
    where: { session: sessions, status: 'completed', startedAt: { not: null }, completedAt: { not: null } },
    select: { slug: true, index: true, status: true, startedAt: true, completedAt: true },
    orderBy: { completedAt: 'desc' },
    take: cap + 1,
  });
  return capped(rows, cap);
}

/** Failed Checks (not quiz tries) counted per challenge and message, the most frequent first. */
export async function readFailureCounts(db: Db, sessions: SessionWhere, cap = CAPS.rows): Promise<Capped<FailureCount>> {
  const groups = await db.checkRun.groupBy({
    by: ['challenge', 'message'],
    where: { session: sessions, kind: 'check', passed: false },
    _count: { _all: true },
    orderBy: [{ _count: { id: 'desc' } }, { challenge: 'asc' }, { message: 'asc' }],
    take: cap + 1,
  });
  return capped(
    groups.map((g) => ({ challenge: g.challenge, message: g.message, count: g._count._all })),
    cap,
  );
}

/** Graded quiz tries of these challenges (their stored output holds the choices), newest first. */
export async function readQuizRuns(db: Db, sessions: SessionWhere, challenges: string[], cap = CAPS.rows): Promise<Capped<QuizRun>> {
  if (!challenges.length) return { rows: [], truncated: false };
  const rows = await db.checkRun.findMany({
    where: { session: sessions, kind: 'quiz', challenge: { in: challenges } },
    select: { challenge: true, output: true },
    orderBy: { createdAt: 'desc' },
    take: cap + 1,
  });
  return capped(rows, cap);
}

export interface InviteOption {
  id: string;
  name: string;
}

/** The invites (workshops) with sessions of this lab, newest first: the page's choices. */
export function readInvites(db: Db, lab: string, cap = 200): Promise<InviteOption[]> {
  return db.invite.findMany({ where: { sessions: { some: { labSlug: lab } } }, select: { id: true, name: true }, orderBy: { createdAt: 'desc' }, take: cap });
}

export function readInvite(db: Db, id: string): Promise<InviteOption | null> {
  return db.invite.findUnique({ where: { id }, select: { id: true, name: true } });
}
