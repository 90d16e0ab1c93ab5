/** Starts per day: UTC days, every day of the range present, [from, to) bounds. */
import { describe, expect, it } from 'vitest';
import { dayKey, startOfUtcDay, startsPerDay } from '../../lib/analytics/starts';

const utc = (iso: string) => new Date(iso);

describe('startsPerDay', () => {
  it('buckets by the UTC day, whatever the offset an instant was written with', () => {
    const days = startsPerDay(
      [utc('2026-12-01T00:00:00Z'), utc('2026-12-01T23:59:59.999Z'), utc('2026-12-02T00:30:00+02:00'), utc('2026-12-01T22:30:00-02:00')],
      utc('2026-12-01T00:00:00Z'),
      utc('2026-12-03T00:00:00Z'),
    );
    // 00:30+02:00 is Dec 1 22:30 UTC; 22:30-02:00 is Dec 2 00:30 UTC.
    expect(days).toEqual([
      { day: '2026-12-01', starts: 3 },
      { day: '2026-12-02', starts: 1 },
    ]);
  });

  it('gives every day of the range, 0 when nobody started, from the day of `from` to the day before `to`', () => {
    const days = startsPerDay([utc('2026-12-03T10:00:00Z')], utc('2026-12-01T15:00:00Z'), utc('2026-12-04T09:00:00Z'));
    expect(days).toEqual([
      { day: '2026-12-01', starts: 0 },
      { day: '2026-12-02', starts: 0 },
      { day: '2026-12-03', starts: 1 },
      { day: '2026-12-04', starts: 0 },
    ]);
  });

  it('leaves out instants before `from` or at and after `to`, and crosses month and year ends', () => {
    const days = startsPerDay(
      [utc('2026-12-30T23:59:59Z'), utc('2026-12-31T00:00:00Z'), utc('2027-01-01T12:00:00Z'), utc('2027-01-02T00:00:00Z')],
      utc('2026-12-31T00:00:00Z'),
      utc('2027-01-02T00:00:00Z'),
    );
    expect(days).toEqual([
      { day: '2026-12-31', starts: 1 },
      { day: '2027-01-01', starts: 1 },
    ]);
  });

  it('is empty for an empty range', () => {
    expect(startsPerDay([], utc('2026-12-01T00:00:00Z'), utc('2026-12-01T00:00:00Z'))).toEqual([]);
  });
});

describe('day helpers', () => {
  it('name and start a UTC day', () => {
    expect(dayKey(utc('2026-03-29T01:30:00+03:00'))).toBe('2026-03-28');
    expect(startOfUtcDay(utc('2026-03-28T22:30:00Z')).toISOString()).toBe('2026-03-28T00:00:00.000Z');
  });
});
