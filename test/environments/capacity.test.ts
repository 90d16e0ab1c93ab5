/** Capacity bookkeeping: admission, FIFO order, queue positions, cancellation, costs. Pure, no Docker. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Capacity, CapacityError, createCapacity, defaultCapacity, labMemoryMiB, mebibytes } from '../../lib/environments/capacity';
import { loadLabOrThrow } from '../../lib/labs/loader';

/** Settles pending promise callbacks. */
const tick = () => new Promise((r) => setImmediate(r));

function tracked(cap: Capacity, id: string, cost = 1, signal?: AbortSignal) {
  const t = { admitted: false, error: undefined as Error | undefined, positions: [] as number[], release: undefined as undefined | (() => void) };
  cap
    .acquire({ id, cost, onPosition: (p) => t.positions.push(p) }, signal)
    .then((r) => {
      t.admitted = true;
      t.release = r;
    })
    .catch((e: Error) => (t.error = e));
  return t;
}

describe('Capacity', () => {
  it('admits up to the limit and queues the rest in FIFO order with 1-based positions', async () => {
    const cap = new Capacity({ limit: 2 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => tracked(cap, id));
    await tick();
    expect([a.admitted, b.admitted, c.admitted, d.admitted]).toEqual([true, true, false, false]);
    expect([cap.position('a'), cap.position('b'), cap.position('c'), cap.position('d')]).toEqual([0, 0, 1, 2]);
    expect(cap.position('nobody')).toBeUndefined();
    expect(c.positions).toEqual([1]);
    expect(d.positions).toEqual([2]);

    a.release!();
    await tick();
    expect(c.admitted).toBe(true);
    expect(d.admitted).toBe(false);
    expect(cap.position('d')).toBe(1);
    expect(d.positions).toEqual([2, 1]);
    expect(c.positions).toEqual([1, 0]);
    expect(cap.snapshot()).toEqual({
      limit: 2,
      used: 2,
      running: [
        { id: 'b', cost: 1 },
        { id: 'c', cost: 1 },
      ],
      queued: [{ id: 'd', cost: 1, position: 1 }],
    });
  });

  it('release is idempotent and release(id) works too', async () => {
    const cap = new Capacity({ limit: 1 });
    const a = tracked(cap, 'a');
    const b = tracked(cap, 'b');
    const c = tracked(cap, 'c');
    await tick();
    a.release!();
    a.release!(); // a second call must not free b's slot
    await tick();
    expect([b.admitted, c.admitted]).toEqual([true, false]);
    expect(cap.release('b')).toBe(true);
    expect(cap.release('b')).toBe(false);
    await tick();
    expect(c.admitted).toBe(true);
    expect(cap.used).toBe(1);
  });

  it('with costs above 1 keeps strict FIFO: a small ticket does not overtake a big one at the head', async () => {
    const cap = new Capacity({ limit: 10 });
    const big1 = tracked(cap, 'big1', 6);
    const big2 = tracked(cap, 'big2', 6);
    const small = tracked(cap, 'small', 2);
    await tick();
    expect(big1.admitted).toBe(true);
    expect(big2.admitted).toBe(false);
    // 6 + 2 fits under 10, but big2 is first in line.
    expect(small.admitted).toBe(false);
    expect(cap.position('small')).toBe(2);
    big1.release!();
    await tick();
    expect([big2.admitted, small.admitted]).toEqual([true, true]);
    expect(cap.used).toBe(8);
  });

  it('admits a ticket bigger than the whole limit only when nothing else runs', async () => {
    const cap = new Capacity({ limit: 4 });
    const a = tracked(cap, 'a', 1);
    const huge = tracked(cap, 'huge', 9);
    const after = tracked(cap, 'after', 1);
    await tick();
    expect(huge.admitted).toBe(false);
    a.release!();
    await tick();
    expect(huge.admitted).toBe(true);
    expect(after.admitted).toBe(false);
    huge.release!();
    await tick();
    expect(after.admitted).toBe(true);
  });

  it('cancellation removes a waiter, rejects it with a cancelled error and moves the others up', async () => {
    const cap = new Capacity({ limit: 1 });
    const a = tracked(cap, 'a');
    const ac = new AbortController();
    const b = tracked(cap, 'b', 1, ac.signal);
    const c = tracked(cap, 'c');
    await tick();
    expect(cap.position('c')).toBe(2);
    ac.abort();
    await tick();
    expect(b.error).toBeInstanceOf(CapacityError);
    expect((b.error as CapacityError).code).toBe('cancelled');
    expect(cap.position('b')).toBeUndefined();
    expect(cap.position('c')).toBe(1);
    expect(c.positions).toEqual([2, 1]);
    a.release!();
    await tick();
    expect(c.admitted).toBe(true);
    expect(b.admitted).toBe(false);
  });

  it('cancelling the blocking head admits the next ticket that now fits', async () => {
    const cap = new Capacity({ limit: 10 });
    tracked(cap, 'running', 5);
    const ac = new AbortController();
    const blocker = tracked(cap, 'blocker', 8, ac.signal);
    const small = tracked(cap, 'small', 3);
    await tick();
    expect(small.admitted).toBe(false);
    ac.abort();
    await tick();
    expect(blocker.error).toBeDefined();
    expect(small.admitted).toBe(true);
  });

  it('an already aborted signal rejects at once; duplicate ids and bad costs are refused', async () => {
    const cap = new Capacity({ limit: 3 });
    const ac = new AbortController();
    ac.abort();
    await expect(cap.acquire({ id: 'x', cost: 1 }, ac.signal)).rejects.toMatchObject({ code: 'cancelled' });
    await cap.acquire({ id: 'a', cost: 1 });
    await expect(cap.acquire({ id: 'a', cost: 1 })).rejects.toMatchObject({ code: 'duplicate' });
    await expect(cap.acquire({ id: 'z', cost: 0 })).rejects.toMatchObject({ code: 'invalid' });
    await expect(cap.acquire({ id: 'z', cost: Number.NaN })).rejects.toMatchObject({ code: 'invalid' });
    expect(() => new Capacity({ limit: 0 })).toThrow(/positive/);
  });

  it('tryAcquire takes free room but never jumps the queue', async () => {
    const cap = new Capacity({ limit: 2 });
    const r = cap.tryAcquire({ id: 'pool-1', cost: 1 });
    expect(r).toBeTypeOf('function');
    expect(cap.tryAcquire({ id: 'pool-2', cost: 2 })).toBeUndefined(); // does not fit
    tracked(cap, 'learner', 2);
    await tick();
    expect(cap.position('learner')).toBe(1);
    expect(cap.tryAcquire({ id: 'pool-3', cost: 1 })).toBeUndefined(); // fits, but someone waits
    r!();
    await tick();
    expect(cap.position('learner')).toBe(0);
  });

  it('transfer re-keys a held ticket; the old release no longer frees it', async () => {
    const cap = new Capacity({ limit: 1 });
    const release = cap.tryAcquire({ id: 'pool-abc', cost: 1 })!;
    expect(cap.transfer('pool-abc', 'session-1')).toBe(true);
    expect(cap.position('session-1')).toBe(0);
    expect(cap.position('pool-abc')).toBeUndefined();
    release();
    expect(cap.used).toBe(1);
    expect(cap.transfer('nobody', 'x')).toBe(false);
    expect(cap.release('session-1')).toBe(true);
    expect(cap.used).toBe(0);
  });

  it('hold counts an existing environment even over the limit; newcomers then wait', async () => {
    const cap = new Capacity({ limit: 2 });
    cap.hold({ id: 'resumed-1', cost: 2 });
    const release = cap.hold({ id: 'resumed-2', cost: 1 });
    expect(cap.used).toBe(3);
    expect(() => cap.hold({ id: 'resumed-2', cost: 1 })).toThrow(/already held/);
    const c = tracked(cap, 'new');
    await tick();
    expect(c.admitted).toBe(false);
    release();
    await tick();
    expect(c.admitted).toBe(false); // 2 + 1 > 2
    cap.release('resumed-1');
    await tick();
    expect(c.admitted).toBe(true);
  });

  it('onChange fires on admission, queueing and release; a throwing listener does not break it', async () => {
    const cap = new Capacity({ limit: 1 });
    let n = 0;
    cap.onChange(() => {
      throw new Error('listener bug');
    });
    const off = cap.onChange(() => n++);
    cap.tryAcquire({ id: 'a', cost: 1 });
    tracked(cap, 'b');
    await tick();
    cap.release('a');
    await tick();
    expect(n).toBe(3);
    off();
    cap.release('b');
    expect(n).toBe(3);
  });
});

describe('capacity limits and costs', () => {
  it('derives the default limit from host memory minus a reserve, in MiB', () => {
    expect(defaultCapacity(24 * 1024 ** 3, 0.25)).toBe(18 * 1024);
    expect(defaultCapacity(8 * 1024 ** 3, 0.5)).toBe(4096);
    expect(() => defaultCapacity(1024 ** 3, 1)).toThrow(/reserve/);
  });

  it('costs a lab the memory its hosts declare (Kind nodes estimated)', async () => {
    expect(mebibytes('1Gi')).toBe(1024);
    expect(mebibytes('96Mi')).toBe(96);
    expect(mebibytes(300)).toBe(300);
    const good = await loadLabOrThrow(path.resolve(__dirname, '../fixtures/labs/good'));
    // workstation: default 512Mi, server: 256Mi
    expect(labMemoryMiB(good)).toBe(768);
    const yavin = await loadLabOrThrow(path.resolve(__dirname, '../../labs/multicast-basics'));
    expect(labMemoryMiB(yavin)).toBe(256 + 5 * 96 + 2 * 128);
  });

  it('createCapacity counts environments when a maximum is configured, memory otherwise', async () => {
    const good = await loadLabOrThrow(path.resolve(__dirname, '../fixtures/labs/good'));
    const byCount = createCapacity({ maxEnvironments: 3, totalMemBytes: 1024 ** 3 });
    expect([byCount.limit, byCount.costOf(good)]).toEqual([3, 1]);
    const byMemory = createCapacity({ totalMemBytes: 4 * 1024 ** 3 });
    expect([byMemory.limit, byMemory.costOf(good)]).toEqual([3072, 768]);
  });
});
