/** The completion funnel: per challenge in the lab's order, reached / completed / skipped. */
import { describe, expect, it } from 'vitest';
import { funnel, type ProgressCount } from '../../lib/analytics/funnel';

const LAB = [
  { index: 0, slug: 'intro', title: 'Intro' },
  { index: 1, slug: 'build', title: 'Build' },
  { index: 2, slug: 'ship', title: 'Ship' },
];
const c = (slug: string, index: number, status: string, count: number): ProgressCount => ({ slug, index, status, count });

describe('funnel', () => {
  it("follows the lab's order whatever order the counts come in", () => {
    const rows = funnel(LAB, [c('ship', 2, 'active', 1), c('intro', 0, 'completed', 3), c('build', 1, 'completed', 2), c('build', 1, 'active', 1)]);
    expect(rows.map((r) => r.slug)).toEqual(['intro', 'build', 'ship']);
    expect(rows.map((r) => [r.reached, r.completed])).toEqual([
      [3, 3],
      [3, 2],
      [1, 0],
    ]);
  });

  it('counts every status but locked as reached; skipped apart from completed', () => {
    const rows = funnel(LAB, [
      c('intro', 0, 'completed', 2),
      c('intro', 0, 'skipped', 1),
      c('intro', 0, 'active', 1),
      c('intro', 0, 'setting-up', 1),
      c('intro', 0, 'failed', 1),
      c('intro', 0, 'locked', 9),
    ]);
    expect(rows[0]).toEqual({ index: 0, slug: 'intro', title: 'Intro', reached: 6, completed: 2, skipped: 1 });
  });

  it('lists every challenge with zeros when nothing was recorded', () => {
    expect(funnel(LAB, []).map((r) => r.reached + r.completed + r.skipped)).toEqual([0, 0, 0]);
  });

  it('appends challenges the lab no longer has, by the index they had', () => {
    const rows = funnel(LAB, [c('old-b', 5, 'completed', 1), c('old-a', 3, 'active', 2), c('intro', 0, 'active', 1)]);
    expect(rows.map((r) => `${r.index}:${r.slug}`)).toEqual(['0:intro', '1:build', '2:ship', '3:old-a', '5:old-b']);
    expect(rows[3]).toMatchObject({ title: 'old-a (no longer in the lab)', reached: 2, completed: 0 });
  });
});
