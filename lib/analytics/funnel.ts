/**
 * The completion funnel: per challenge, in the lab's order, how many sessions reached it (its
 * progress row left `locked`: setting up, active, completed, skipped or failed), completed it,
 * and skipped it. Input: progress rows counted per challenge and status (query.ts groups them).
 */
import { challengeList } from './challenges';
import type { ChallengeRef, FunnelRow } from './types';

export interface ProgressCount {
  slug: string;
  index: number;
  status: string;
  count: number;
}

export function funnel(lab: readonly ChallengeRef[], counts: readonly ProgressCount[]): FunnelRow[] {
  const rows = challengeList(lab, counts).map((c): FunnelRow => ({ ...c, reached: 0, completed: 0, skipped: 0 }));
  const bySlug = new Map(rows.map((r) => [r.slug, r]));
  for (const { slug, status, count } of counts) {
    const row = bySlug.get(slug);
    if (!row || status === 'locked') continue;
    row.reached += count;
    if (status === 'completed') row.completed += count;
    if (status === 'skipped') row.skipped += count;
  }
  return rows;
}
