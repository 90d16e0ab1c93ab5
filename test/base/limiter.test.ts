/**
 * The concurrency limit with priorities (lib/base/limiter.ts) and its estimate
 * (lib/base/estimate.ts): order, positions as jobs finish, cancellation, estimates on a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Limiter, LimiterCancelled, PRIORITY, machineLimits } from '../../lib/base/limiter';
import { RecentDurations, estimateStartMs } from '../../lib/base/estimate';

/** A job that runs until finish() is called; records when it started. */
function job(limiter: Limiter, id: string, opts: { priority?: number; signal?: AbortSignal } = {}) {
  const j = {
    started: false,
    done: false,
    error: undefined as Error | undefined,
    positions: [] as number[],
    finish: () => {},
    fail: (() => {}) as (e: Error) => void,
  };
  void limiter
    .run(
      () =>
        new Promise<void>((resolve, reject) => {
          j.started = true;
          j.finish = resolve;
          j.fail = reject;
        }),
      { id, ...opts, onPosition: (p) => j.positions.push(p) },
    )
    .then(
      () => (j.done = true),
      (e: Error) => (j.error = e),
    );
  return j;
}

const tick = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('Limiter', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('runs at most `concurrency` jobs and starts the rest first come, first served', async () => {
    const l = new Limiter(2);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => job(l, id));
    await tick();
    expect([a.started, b.started, c.started, d.started]).toEqual([true, true, false, false]);
    expect([l.position('a'), l.position('b'), l.position('c'), l.position('d')]).toEqual([0, 0, 1, 2]);
    b.finish();
    await tick();
    expect([c.started, d.started]).toEqual([true, false]);
    expect(l.position('d')).toBe(1);
    expect(c.positions).toEqual([1, 0]);
    expect(d.positions).toEqual([2, 1]);
    expect(l.stats()).toMatchObject({ concurrency: 2, running: 2, waiting: 1 });
  });

  it('a failing job frees its slot too, and its error reaches the caller', async () => {
    const l = new Limiter(1);
    const a = job(l, 'a');
    const b = job(l, 'b');
    await tick();
    a.fail(new Error('engine said no'));
    await tick();
    expect(a.error?.message).toBe('engine said no');
    expect(b.started).toBe(true);
  });

  it('puts background work (pool fills) after every waiting learner, FIFO within each priority', async () => {
    const l = new Limiter(1);
    const running = job(l, 'running');
    const pool1 = job(l, 'pool-1', { priority: PRIORITY.background });
    const learner1 = job(l, 'learner-1');
    const pool2 = job(l, 'pool-2', { priority: PRIORITY.background });
    const learner2 = job(l, 'learner-2');
    await tick();
    expect(['learner-1', 'learner-2', 'pool-1', 'pool-2'].map((id) => l.position(id))).toEqual([1, 2, 3, 4]);
    // pool-1 was told it moved back when learners came in ahead of it.
    expect(pool1.positions).toEqual([1, 2, 3]);
    const order: string[] = [];
    const all = { learner1, learner2, pool1, pool2 };
    running.finish();
    for (let i = 0; i < 4; i++) {
      await tick();
      const [name, j] = Object.entries(all).find(([n, x]) => x.started && !order.includes(n))!;
      order.push(name);
      j.finish();
    }
    expect(order).toEqual(['learner1', 'learner2', 'pool1', 'pool2']);
  });

  it('a queued job whose signal aborts (the session was stopped) leaves the queue; those behind move up', async () => {
    const l = new Limiter(1);
    const a = job(l, 'a');
    const ac = new AbortController();
    const b = job(l, 'b', { signal: ac.signal });
    const c = job(l, 'c');
    await tick();
    ac.abort();
    await tick();
    expect(b.error).toBeInstanceOf(LimiterCancelled);
    expect(b.error?.message).toBe('stopped waiting for a free slot');
    expect(l.position('b')).toBeUndefined();
    expect(l.position('c')).toBe(1);
    expect(c.positions).toEqual([2, 1]);
    a.finish();
    await tick();
    expect(b.started).toBe(false);
    expect(c.started).toBe(true);
  });

  it('refuses a job whose signal already aborted, and a second job with the same id', async () => {
    const l = new Limiter(1, 'its turn to be prepared');
    const ac = new AbortController();
    ac.abort();
    await expect(l.run(async () => 1, { signal: ac.signal })).rejects.toThrow('stopped waiting for its turn to be prepared');
    job(l, 'x');
    await tick();
    await expect(l.run(async () => 1, { id: 'x' })).rejects.toThrow(/already waiting for or holding/);
    expect(() => new Limiter(0)).toThrow(/positive integer/);
  });

  it('estimates from recent durations, and the estimate follows the clock and the queue as jobs finish', async () => {
    const l = new Limiter(2);
    // Nothing finished yet: no estimate rather than a made-up one.
    const first = [job(l, 'f1'), job(l, 'f2'), job(l, 'w0')];
    await tick();
    expect(l.estimate('w0')).toBeUndefined();
    vi.advanceTimersByTime(10_000);
    first[0].finish();
    first[1].finish();
    await tick();
    first[2].finish(); // w0 ran 0 s: only successful durations count, and it was one (10 s, 10 s, 0 s: median 10 s)
    await tick();
    expect(l.stats().typicalMs).toBe(10_000);

    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => job(l, id));
    await tick();
    expect(l.estimate('a')).toBeUndefined(); // running, not waiting
    // Two slots each free in 10 s: c starts then, ready 10 s later; d too (the second slot).
    expect(l.estimate('c')).toBe(20_000);
    expect(l.estimate('d')).toBe(20_000);
    vi.advanceTimersByTime(4_000);
    expect(l.estimate('c')).toBe(16_000);
    a.finish(); // a took 4 s: typical is now the median of 10, 10, 0, 4 = 7 s
    await tick();
    expect(c.started).toBe(true);
    expect(l.position('d')).toBe(1);
    // b has run 4 s of a typical 7 s: its slot frees in 3 s, then d needs 7 s.
    expect(l.estimate('d')).toBe(10_000);
    b.finish();
    c.finish();
    await tick();
    expect(d.started).toBe(true);
    expect(l.estimate('d')).toBeUndefined();
  });
});

describe('estimateStartMs', () => {
  it('is 0 while a slot is free, else when the earliest slot frees, then one typical job per round', () => {
    expect(estimateStartMs(1, 2, [5_000], 10_000)).toBe(0);
    expect(estimateStartMs(1, 2, [5_000, 2_000], 10_000)).toBe(5_000);
    expect(estimateStartMs(2, 2, [5_000, 2_000], 10_000)).toBe(8_000);
    expect(estimateStartMs(3, 2, [5_000, 2_000], 10_000)).toBe(15_000);
    // A job running longer than typical is taken to end any moment, never in the past.
    expect(estimateStartMs(1, 1, [30_000], 10_000)).toBe(0);
    expect(estimateStartMs(0, 1, [], 10_000)).toBe(0);
  });
});

describe('RecentDurations', () => {
  it('keeps a window of the latest durations and gives their median', () => {
    const d = new RecentDurations(3);
    expect(d.typical()).toBeUndefined();
    for (const ms of [100, 900, 200]) d.add(ms);
    expect(d.typical()).toBe(200);
    d.add(1_000); // 100 leaves the window: 900, 200, 1000
    expect(d.typical()).toBe(900);
    d.add(NaN);
    d.add(-1);
    expect(d.count).toBe(3);
    const even = new RecentDurations();
    [1, 2, 3, 4].forEach((x) => even.add(x));
    expect(even.typical()).toBe(2.5);
  });
});

describe('machineLimits', () => {
  it('sizes provisioning to the cores (2 to 8) and checks to 8 per core (8 to 64)', () => {
    expect(machineLimits(1)).toEqual({ provisioning: 2, checks: 8 });
    expect(machineLimits(2)).toEqual({ provisioning: 2, checks: 16 });
    expect(machineLimits(6)).toEqual({ provisioning: 6, checks: 48 });
    expect(machineLimits(64)).toEqual({ provisioning: 8, checks: 64 });
  });
});
