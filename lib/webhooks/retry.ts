/**
 * When a failed delivery is tried again: exponential backoff from `baseMs`, capped at
 * `maxDelayMs`, with ±20 % jitter so receivers coming back up are not hit by every sender at the
 * same instant. A delivery older than `maxAgeMs` is given up after its next failure: the window is
 * counted from when it was queued, so one that waited behind a failing delivery gets no fresh one.
 */

export interface RetryPolicy {
  baseMs: number;
  maxDelayMs: number;
  maxAgeMs: number;
}

export const RETRY: RetryPolicy = { baseMs: 5_000, maxDelayMs: 10 * 60_000, maxAgeMs: 3 * 24 * 3_600_000 };

/** After `attempts` failed attempts: when to try next, or null to give up. */
export function retryAt(policy: RetryPolicy, attempts: number, createdAt: Date, now: Date, random: () => number = Math.random): Date | null {
  if (now.getTime() - createdAt.getTime() >= policy.maxAgeMs) return null;
  const backoff = policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30);
  const delay = Math.min(policy.maxDelayMs, backoff * (0.8 + 0.4 * random()));
  return new Date(now.getTime() + delay);
}
