/** The retry policy: 5 s doubling, capped at 10 minutes, ±20 % jitter, given up 3 days after the delivery was queued. */
import { describe, expect, it } from 'vitest';
import { RETRY, retryAt } from '../../lib/webhooks/retry';

const queued = new Date('2026-12-01T10:00:00Z');
const after = (ms: number) => new Date(queued.getTime() + ms);
/** The delay before the next attempt after `attempts` failures, with the jitter at `r` (0..1). */
const delay = (attempts: number, r = 0.5, now = queued) => retryAt(RETRY, attempts, queued, now, () => r)!.getTime() - now.getTime();

describe('webhook retry policy', () => {
  it('doubles from 5 s and stops growing at 10 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20, 400].map((n) => delay(n))).toEqual([5, 10, 20, 40, 80, 160, 320, 600, 600, 600].map((s) => s * 1000));
  });

  it('spreads each delay by ±20 %, still capped', () => {
    expect(delay(1, 0)).toBe(4000);
    expect(delay(1, 1)).toBe(6000);
    expect(delay(9, 1)).toBe(600_000);
  });

  it('gives up once the delivery has been queued for 3 days', () => {
    expect(retryAt(RETRY, 400, queued, after(RETRY.maxAgeMs - 1))).not.toBeNull();
    expect(retryAt(RETRY, 400, queued, after(RETRY.maxAgeMs))).toBeNull();
  });
});
