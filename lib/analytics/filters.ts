/**
 * The analytics page's and CSV export's query: `invite` (one workshop), and the range: `days`
 * (the last N UTC days, today included; 30 by default) or `since` / `until` (UTC dates, both
 * days included; either may be left out), which win over `days` when given. Empty values (what
 * a GET form sends for an untouched field) count as absent; unknown parameters are ignored.
 */
import { z } from 'zod';
import { dayKey, startOfUtcDay } from './starts';

export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

const utcDay = (s: string) => new Date(`${s}T00:00:00.000Z`);
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine((s) => !Number.isNaN(utcDay(s).getTime()) && dayKey(utcDay(s)) === s, 'is not a date');

export const AnalyticsQuery = z.object({
  invite: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an invite id')
    .optional(),
  days: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of days')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(MAX_DAYS, `must be at most ${MAX_DAYS}`))
    .optional(),
  since: date.optional(),
  until: date.optional(),
});
export type AnalyticsQuery = z.infer<typeof AnalyticsQuery>;

export interface AnalyticsFilters {
  invite?: string;
  /** Sessions created at or after `from` and before `to`. */
  from: Date;
  to: Date;
  /** What was asked, for the form and for links to the same view (e.g. the CSV exports). */
  query: AnalyticsQuery;
  /** `query` as a search string, with its `?` (empty when nothing was asked). */
  search: string;
}

export type FiltersResult = { ok: true; filters: AnalyticsFilters } | { ok: false; error: string };

type Raw = URLSearchParams | Record<string, string | string[] | undefined>;

/** The first non-empty value of each parameter this query knows. */
function values(raw: Raw): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(AnalyticsQuery.shape)) {
    const v = raw instanceof URLSearchParams ? raw.get(key) : raw[key];
    const first = Array.isArray(v) ? v[0] : v;
    if (first) out[key] = first;
  }
  return out;
}

export function parseFilters(raw: Raw, now = new Date()): FiltersResult {
  const parsed = AnalyticsQuery.safeParse(values(raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue.path.join('.') || 'query'}: ${issue.message}` };
  }
  const query = parsed.data;
  let from: Date;
  let to: Date;
  if (query.since || query.until) {
    const until = query.until ?? dayKey(now);
    from = query.since ? utcDay(query.since) : new Date(utcDay(until).getTime() - (DEFAULT_DAYS - 1) * DAY_MS);
    to = new Date(utcDay(until).getTime() + DAY_MS);
    if (from >= to) return { ok: false, error: 'since: must not be after until' };
    if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS) return { ok: false, error: `since: the range is longer than ${MAX_DAYS} days` };
  } else {
    to = now;
    from = new Date(startOfUtcDay(now).getTime() - ((query.days ?? DEFAULT_DAYS) - 1) * DAY_MS);
  }
  const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return { ok: true, filters: { invite: query.invite, from, to, query, search: search ? `?${search}` : '' } };
}
