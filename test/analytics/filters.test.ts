/** The analytics query: invite, last N days (UTC, today included) or since/until dates. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DAYS, parseFilters } from '../../lib/analytics/filters';

const NOW = new Date('2026-12-10T15:30:00Z');
const ok = (raw: Record<string, string | string[] | undefined> | URLSearchParams) => {
  const r = parseFilters(raw, NOW);
  if (!r.ok) throw new Error(r.error);
  return r.filters;
};
const error = (raw: Record<string, string>) => {
  const r = parseFilters(raw, NOW);
  return r.ok ? undefined : r.error;
};

describe('parseFilters', () => {
  it('defaults to the last 30 UTC days, today included, up to now', () => {
    const f = ok({});
    expect(DEFAULT_DAYS).toBe(30);
    expect(f.from.toISOString()).toBe('2026-11-11T00:00:00.000Z');
    expect(f.to).toEqual(NOW);
    expect(f.invite).toBeUndefined();
    expect(f.search).toBe('');
  });

  it('takes days, an invite, and gives them back as a search string for links', () => {
    const f = ok(new URLSearchParams('days=7&invite=inv_A-1&other=ignored'));
    expect(f.from.toISOString()).toBe('2026-12-04T00:00:00.000Z');
    expect(f.invite).toBe('inv_A-1');
    expect(f.search).toBe('?invite=inv_A-1&days=7');
    expect(ok({ days: '1' }).from.toISOString()).toBe('2026-12-10T00:00:00.000Z');
  });

  it('takes since and until as whole UTC days, both included; they win over days', () => {
    const f = ok({ since: '2026-11-01', until: '2026-11-30', days: '7' });
    expect(f.from.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(f.to.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(ok({ since: '2026-12-01' }).to.toISOString()).toBe('2026-12-11T00:00:00.000Z'); // until today
    expect(ok({ until: '2026-11-30' }).from.toISOString()).toBe('2026-11-01T00:00:00.000Z'); // 30 days back
    expect(ok({ since: '2026-12-05', until: '2026-12-05' }).to.toISOString()).toBe('2026-12-06T00:00:00.000Z');
  });

  it('ignores empty values (an untouched form field) and takes the first of repeated ones', () => {
    const f = ok({ invite: '', since: '', until: '', days: ['14', '3'] });
    expect(f.invite).toBeUndefined();
    expect(f.from.toISOString()).toBe('2026-11-27T00:00:00.000Z');
  });

  it('refuses what it cannot use, naming the parameter', () => {
    expect(error({ days: '0' })).toMatch(/^days: must be at least 1/);
    expect(error({ days: '400' })).toMatch(/^days: must be at most 366/);
    expect(error({ days: 'week' })).toMatch(/^days: /);
    expect(error({ since: '2026-02-30' })).toMatch(/^since: is not a date/);
    expect(error({ until: '12/01/2026' })).toMatch(/^until: must be a date/);
    expect(error({ since: '2026-12-05', until: '2026-12-01' })).toMatch(/must not be after until/);
    expect(error({ since: '2024-01-01', until: '2026-12-01' })).toMatch(/longer than 366 days/);
    expect(error({ invite: 'not an id!' })).toMatch(/^invite: /);
  });
});
