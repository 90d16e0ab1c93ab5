/**
 * The challenges a report lists, in order: the lab's as it is now, then any slug the recorded
 * rows name that the lab no longer has (it was edited since), by the index it had (-1 when the
 * rows do not say: a CheckRun names its challenge by slug only), so nothing recorded silently
 * disappears.
 */
import type { ChallengeRef } from './types';

export function challengeList(lab: readonly ChallengeRef[], recorded: Iterable<{ slug: string; index?: number }>): ChallengeRef[] {
  const known = new Set(lab.map((c) => c.slug));
  const gone = new Map<string, number>();
  for (const r of recorded) if (!known.has(r.slug)) gone.set(r.slug, Math.min(gone.get(r.slug) ?? Infinity, r.index ?? Infinity));
  const extra = [...gone]
    .sort(([a, i], [b, j]) => (i !== j ? (i < j ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0))
    .map(([slug, index]) => ({ index: Number.isFinite(index) ? index : -1, slug, title: `${slug} (no longer in the lab)` }));
  return [...lab.map(({ index, slug, title }) => ({ index, slug, title })), ...extra];
}
