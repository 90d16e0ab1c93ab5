import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BATCH, OutputBatcher } from '../../lib/terminals/node/batcher';

// The batcher's timing runs on fake clocks (its timer and performance.now): exact, no margins.
beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
afterEach(() => vi.useRealTimers());
const advance = (ms: number) => vi.advanceTimersByTime(ms);

function make() {
  const out: Buffer[] = [];
  const b = new OutputBatcher(BATCH, (p) => out.push(Buffer.from(p)));
  return { b, out };
}

describe('OutputBatcher', () => {
  it('sends an echo at once, also when typed fast', () => {
    const { b, out } = make();
    for (let i = 0; i < 20; i++) {
      b.push(Buffer.from('a'));
      expect(out).toHaveLength(i + 1); // synchronous: no timer in the echo path
    }
  });

  it('coalesces a flood into few frames, in order, without losing a byte', () => {
    const { b, out } = make();
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const chunk = Buffer.alloc(4096, i & 0xff);
      sent.push(chunk);
      b.push(chunk);
    }
    advance(BATCH.delayMs);
    expect(Buffer.concat(out).equals(Buffer.concat(sent))).toBe(true);
    expect(out.length).toBeLessThanOrEqual(Math.ceil((200 * 4096) / BATCH.maxBytes) + 2);
    for (const p of out) expect(p.length).toBeLessThanOrEqual(BATCH.maxBytes);
  });

  it('waits exactly delayMs under load, and is immediate again after a quiet spell', () => {
    const { b, out } = make();
    b.push(Buffer.alloc(4096)); // first: idle, immediate
    expect(out).toHaveLength(1);
    b.push(Buffer.alloc(4096)); // right after a big flush: coalesced
    expect(out).toHaveLength(1);
    expect(b.pendingBytes).toBe(4096);
    advance(BATCH.delayMs - 1);
    expect(out, 'not before delayMs').toHaveLength(1);
    advance(1);
    expect(out).toHaveLength(2);
    advance(BATCH.idleMs);
    b.push(Buffer.alloc(4096));
    expect(out).toHaveLength(3);
  });

  it('splits a read larger than maxBytes into contiguous pieces', () => {
    const { b, out } = make();
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i & 0xff));
    b.push(big);
    expect(out.map((p) => p.length)).toEqual([65536, 65536, 65536, 200_000 - 3 * 65536]);
    expect(Buffer.concat(out).equals(big)).toBe(true);
  });

  it('flush() sends what is pending now; dispose() drops it', () => {
    const { b, out } = make();
    b.push(Buffer.alloc(4096));
    b.push(Buffer.from('xyz'));
    b.flush();
    expect(Buffer.concat(out).subarray(-3).toString()).toBe('xyz');
    b.push(Buffer.alloc(4096)); // after a small flush: immediate
    const delivered = out.length;
    b.push(Buffer.alloc(4096)); // after a big one: waits
    b.push(Buffer.alloc(10));
    b.dispose();
    advance(BATCH.delayMs * 2);
    expect(b.pendingBytes).toBe(0);
    expect(out.length).toBe(delivered);
  });
});
