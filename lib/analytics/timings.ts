/**
 * Time per challenge: from its start (ChallengeProgress.startedAt) to its completion
 * (completedAt), over the sessions that completed it. Median and 90th percentile by linear
 * interpolation between the closest ranks (numpy's default, a spreadsheet's PERCENTILE.INC):
 * one sample is every percentile; two give their mean as the median.
 */
import { challengeList } from './challenges';
import type { ChallengeRef, TimeRow } from './types';

export interface ProgressTimes {
  slug: string;
  index: number;
  status: string;
  startedAt: Date | null;
  completedAt: Date | null;
}

/** The `q` quantile (0..1) of ascending `sorted`; null when there is none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Whole seconds a completed challenge took; null unless completed with both times (a clock step back counts 0). */
export function secondsTaken(row: ProgressTimes): number | null {
  if (row.status !== 'completed' || !row.startedAt || !row.completedAt) return null;
  return Math.max(0, Math.round((row.completedAt.getTime() - row.startedAt.getTime()) / 1000));
}

export function challengeTimes(lab: readonly ChallengeRef[], rows: readonly ProgressTimes[]): TimeRow[] {
  const samples = new Map<string, number[]>();
  const done: ProgressTimes[] = [];
  for (const r of rows) {
    const seconds = secondsTaken(r);
    if (seconds === null) continue;
    done.push(r);
    const list = samples.get(r.slug);
    if (list) list.push(seconds);
    else samples.set(r.slug, [seconds]);
  }
  return challengeList(lab, done).map((c) => {
    const sorted = (samples.get(c.slug) ?? []).sort((a, b) => a - b);
    const round = (n: number | null) => (n === null ? null : Math.round(n));
    return { ...c, completed: sorted.length, medianSeconds: round(quantile(sorted, 0.5)), p90Seconds: round(quantile(sorted, 0.9)) };
  });
}
