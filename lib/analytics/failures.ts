/**
 * The most frequent FAIL messages per challenge. Messages are compared with their whitespace
 * normalized (runs collapsed to one space, ends trimmed), so one script's message formatted a
 * little differently counts once. Input: failed Checks counted per challenge and message
 * (query.ts groups them in the database, so this sees distinct messages, not every run).
 */
import { challengeList } from './challenges';
import type { ChallengeRef, FailureGroup } from './types';

export interface FailureCount {
  challenge: string;
  message: string;
  count: number;
}

export const TOP_FAILURES = 5;
const NO_MESSAGE = '(no message)';

export function normalizeMessage(message: string): string {
  return message.replace(/\s+/g, ' ').trim() || NO_MESSAGE;
}

/** Per challenge (those with at least one failure), its total and its `top` messages, most frequent first (ties: alphabetical). */
export function topFailures(lab: readonly ChallengeRef[], rows: readonly FailureCount[], top = TOP_FAILURES): FailureGroup[] {
  const counts = new Map<string, Map<string, number>>();
  for (const { challenge, message, count } of rows) {
    const mine = counts.get(challenge) ?? new Map<string, number>();
    const text = normalizeMessage(message);
    mine.set(text, (mine.get(text) ?? 0) + count);
    counts.set(challenge, mine);
  }
  // A CheckRun names its challenge by slug only: one the lab no longer has is listed last.
  return challengeList(
    lab,
    [...counts.keys()].map((slug) => ({ slug })),
  ).flatMap((c): FailureGroup[] => {
    const mine = counts.get(c.slug);
    if (!mine) return [];
    const messages = [...mine]
      .map(([message, count]) => ({ message, count }))
      .sort((a, b) => b.count - a.count || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0))
      .slice(0, Math.max(0, top));
    return [{ ...c, total: [...mine.values()].reduce((s, n) => s + n, 0), messages }];
  });
}
