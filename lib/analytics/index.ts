/**
 * Analytics per lab for instructors (the page app/instructor/labs/[slug]/analytics and its CSV
 * exports): the completion funnel, time per challenge, the most frequent FAIL messages, quiz
 * answers and starts per day, over the sessions of one lab created in a range, optionally of one
 * invite (workshop). Read from the database only (query.ts), computed by the pure modules beside
 * this one.
 */
import type { Db } from '../db/client';
import type { Lab } from '../labs/schema';
import type { AnalyticsFilters } from './filters';
import { topFailures } from './failures';
import { funnel } from './funnel';
import { CAPS, readCompletions, readFailureCounts, readInvite, readProgressCounts, readQuizRuns, readSessions, type Caps } from './query';
import { quizDistribution, type QuizRef } from './quiz';
import { startsPerDay } from './starts';
import { challengeTimes } from './timings';
import type { ChallengeRef, LabAnalytics, ReportName } from './types';

export { REPORTS, type LabAnalytics, type ReportName } from './types';
export { parseFilters, type AnalyticsFilters } from './filters';
export { analyticsCsv, csvFileName } from './csv';
export { readInvites, type InviteOption } from './query';

export interface AnalyticsOptions {
  /** Compute only this report (a CSV export); the others stay empty. */
  only?: ReportName;
  caps?: Caps;
}

/** The analytics of `lab` under `filters`; null when the filters name an invite that does not exist. */
export async function labAnalytics(db: Db, lab: Lab, filters: AnalyticsFilters, opts: AnalyticsOptions = {}): Promise<LabAnalytics | null> {
  const caps = opts.caps ?? CAPS;
  const want = (r: ReportName) => !opts.only || opts.only === r;
  const invite = filters.invite ? await readInvite(db, filters.invite) : null;
  if (filters.invite && !invite) return null;

  const challenges: ChallengeRef[] = lab.challenges.map(({ index, slug, title }) => ({ index, slug, title }));
  const quizzes: QuizRef[] = lab.challenges
    .filter((c) => c.type === 'quiz' && c.answers?.length)
    .map((c) => ({ index: c.index, slug: c.slug, title: c.title, answers: c.answers ?? [], solution: c.solution ?? [] }));

  const scope = { lab: lab.track.slug, invite: filters.invite, from: filters.from, to: filters.to };
  const sessions = await readSessions(db, scope, caps.sessions);
  const none = { rows: [], truncated: false };
  const [progress, completions, failures, quizRuns] = await Promise.all([
    want('funnel') ? readProgressCounts(db, sessions.where) : [],
    want('times') ? readCompletions(db, sessions.where, caps.rows) : none,
    want('failures') ? readFailureCounts(db, sessions.where, caps.rows) : none,
    want('quiz')
      ? readQuizRuns(
          db,
          sessions.where,
          quizzes.map((q) => q.slug),
          caps.rows,
        )
      : none,
  ]);

  return {
    lab: { slug: lab.track.slug, title: lab.track.title },
    invite,
    from: filters.from.toISOString(),
    to: filters.to.toISOString(),
    sessions: sessions.rows.length,
    truncated: sessions.truncated || completions.truncated || failures.truncated || quizRuns.truncated,
    funnel: want('funnel') ? funnel(challenges, progress) : [],
    times: want('times') ? challengeTimes(challenges, completions.rows) : [],
    failures: want('failures') ? topFailures(challenges, failures.rows) : [],
    quiz: want('quiz') ? quizDistribution(quizzes, quizRuns.rows) : [],
    starts: want('starts') ? startsPerDay(sessions.rows, filters.from, filters.to) : [],
  };
}
