/**
 * Each analytics report as CSV (lib/results/csv.ts quotes and defuses the values: FAIL messages
 * and quiz choices are lab- or learner-made text). Challenge positions are the lab's indexes;
 * a challenge the lab no longer has, whose index is unknown, has none.
 */
import { tableCsv, type CsvValue } from '../results/csv';
import type { LabAnalytics, ReportName } from './types';

const index = (i: number) => (i >= 0 ? i : null);

export const REPORT_COLUMNS: Record<ReportName, readonly string[]> = {
  funnel: ['challenge_index', 'challenge', 'title', 'reached', 'completed', 'skipped'],
  times: ['challenge_index', 'challenge', 'title', 'completed', 'median_seconds', 'p90_seconds'],
  failures: ['challenge_index', 'challenge', 'title', 'rank', 'message', 'count', 'challenge_failures'],
  quiz: ['challenge_index', 'challenge', 'title', 'choice_index', 'choice', 'correct', 'picks', 'submissions'],
  starts: ['day', 'starts'],
};

function rows(report: ReportName, a: LabAnalytics): CsvValue[][] {
  switch (report) {
    case 'funnel':
      return a.funnel.map((r) => [index(r.index), r.slug, r.title, r.reached, r.completed, r.skipped]);
    case 'times':
      return a.times.map((r) => [index(r.index), r.slug, r.title, r.completed, r.medianSeconds, r.p90Seconds]);
    case 'failures':
      return a.failures.flatMap((g) => g.messages.map((m, n) => [index(g.index), g.slug, g.title, n + 1, m.message, m.count, g.total]));
    case 'quiz':
      return a.quiz.flatMap((q) => q.choices.map((c) => [index(q.index), q.slug, q.title, c.index, c.text, c.correct, c.picks, q.submissions]));
    case 'starts':
      return a.starts.map((d) => [d.day, d.starts]);
  }
}

export function analyticsCsv(report: ReportName, analytics: LabAnalytics): string {
  return tableCsv(REPORT_COLUMNS[report], rows(report, analytics));
}

/** The download's file name: lab, report, invite when narrowed, and the range's days. */
export function csvFileName(report: ReportName, a: LabAnalytics): string {
  const day = (iso: string) => iso.slice(0, 10);
  const last = new Date(new Date(a.to).getTime() - 1).toISOString();
  const name = ['labforge', a.lab.slug, report, a.invite?.id, `${day(a.from)}_${day(last)}`].filter(Boolean).join('-');
  return `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv`;
}
