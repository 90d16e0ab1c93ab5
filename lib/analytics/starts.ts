/** Sessions started per day, in UTC: every day of the range gets its entry, 0 when nobody started. */
import type { DayCount } from './types';

const DAY_MS = 86_400_000;

/** The UTC day of an instant, YYYY-MM-DD. */
export const dayKey = (d: Date) => d.toISOString().slice(0, 10);

/** The start (00:00 UTC) of the day `d` falls in. */
export const startOfUtcDay = (d: Date) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);

/** Per UTC day from `from`'s to the one just before `to`, the instants of `createdAt` falling in [from, to). */
export function startsPerDay(createdAt: readonly Date[], from: Date, to: Date): DayCount[] {
  const days: DayCount[] = [];
  const index = new Map<string, DayCount>();
  for (let t = startOfUtcDay(from).getTime(); t < to.getTime(); t += DAY_MS) {
    const entry = { day: dayKey(new Date(t)), starts: 0 };
    days.push(entry);
    index.set(entry.day, entry);
  }
  for (const d of createdAt) {
    if (d.getTime() < from.getTime() || d.getTime() >= to.getTime()) continue;
    const entry = index.get(dayKey(d));
    if (entry) entry.starts += 1;
  }
  return days;
}
