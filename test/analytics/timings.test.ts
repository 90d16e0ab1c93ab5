/** Time per challenge: median and 90th percentile (linear interpolation), completed challenges only. */
import { describe, expect, it } from 'vitest';
import { challengeTimes, quantile, secondsTaken, type ProgressTimes } from '../../lib/analytics/timings';

const LAB = [
  { index: 0, slug: 'first', title: 'First' },
  { index: 1, slug: 'second', title: 'Second' },
];
const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 9, 0, s));
const done = (slug: string, seconds: number, extra: Partial<ProgressTimes> = {}): ProgressTimes => ({
  slug,
  index: slug === 'first' ? 0 : 1,
  status: 'completed',
  startedAt: at(0),
  completedAt: at(seconds),
  ...extra,
});

describe('quantile', () => {
  it('has none for no samples', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([], 0.9)).toBeNull();
  });
  it('is the sample itself for one sample, whatever the quantile', () => {
    expect(quantile([42], 0)).toBe(42);
    expect(quantile([42], 0.5)).toBe(42);
    expect(quantile([42], 0.9)).toBe(42);
    expect(quantile([42], 1)).toBe(42);
  });
  it('interpolates between two samples: the median is their mean, p90 nine tenths of the way', () => {
    expect(quantile([10, 20], 0.5)).toBe(15);
    expect(quantile([10, 20], 0.9)).toBeCloseTo(19);
  });
  it('matches numpy / PERCENTILE.INC on more samples, and clamps q to 0..1', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(xs, 0.5)).toBe(5.5);
    expect(quantile(xs, 0.9)).toBeCloseTo(9.1);
    expect(quantile([1, 2, 3], 0.5)).toBe(2);
    expect(quantile(xs, -1)).toBe(1);
    expect(quantile(xs, 2)).toBe(10);
  });
});

describe('secondsTaken', () => {
  it('counts only completed challenges with both times; a clock step back counts 0', () => {
    expect(secondsTaken(done('first', 75))).toBe(75);
    expect(secondsTaken(done('first', 75, { status: 'active' }))).toBeNull();
    expect(secondsTaken(done('first', 75, { startedAt: null }))).toBeNull();
    expect(secondsTaken(done('first', 75, { completedAt: null }))).toBeNull();
    expect(secondsTaken({ ...done('first', 0), startedAt: at(30) })).toBe(0);
  });
});

describe('challengeTimes', () => {
  it('gives every challenge of the lab, in order, with 0, 1 or 2 samples', () => {
    expect(challengeTimes(LAB, [])).toEqual([
      { index: 0, slug: 'first', title: 'First', completed: 0, medianSeconds: null, p90Seconds: null },
      { index: 1, slug: 'second', title: 'Second', completed: 0, medianSeconds: null, p90Seconds: null },
    ]);
    expect(challengeTimes(LAB, [done('second', 100)])[1]).toMatchObject({ completed: 1, medianSeconds: 100, p90Seconds: 100 });
    expect(challengeTimes(LAB, [done('second', 300), done('second', 600)])[1]).toMatchObject({ completed: 2, medianSeconds: 450, p90Seconds: 570 });
  });

  it('leaves out challenges not completed, rounds to whole seconds, and lists a challenge the lab lost last', () => {
    const rows = [
      done('first', 10),
      done('first', 11),
      done('first', 999, { status: 'active' }),
      done('first', 999, { status: 'skipped' }),
      { ...done('gone', 50), index: 7 },
    ];
    const times = challengeTimes(LAB, rows);
    expect(times.map((t) => t.slug)).toEqual(['first', 'second', 'gone']);
    expect(times[0]).toMatchObject({ completed: 2, medianSeconds: 11, p90Seconds: 11 }); // 10.5 and 10.9, rounded
    expect(times[2]).toEqual({ index: 7, slug: 'gone', title: 'gone (no longer in the lab)', completed: 1, medianSeconds: 50, p90Seconds: 50 });
  });
});
