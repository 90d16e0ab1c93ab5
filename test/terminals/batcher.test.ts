import { describe, expect, it } from 'vitest';
import { BATCH, OutputBatcher } from '../../lib/terminals/batcher';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('coalesces a flood into few frames, in order, without losing a byte', async () => {
    const { b, out } = make();
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const chunk = Buffer.alloc(4096, i & 0xff);
      sent.push(chunk);
      b.push(chunk);
    }
    await sleep(BATCH.delayMs + 20);
    expect(Buffer.concat(out).equals(Buffer.concat(sent))).toBe(true);
    expect(out.length).toBeLessThanOrEqual(Math.ceil((200 * 4096) / BATCH.maxBytes) + 2);
    for (const p of out) expect(p.length).toBeLessThanOrEqual(BATCH.maxBytes);
  });

  it('waits at most delayMs under load, and is immediate again after a quiet spell', async () => {
    const { b, out } = make();
    b.push(Buffer.alloc(4096)); // first: idle, immediate
    expect(out).toHaveLength(1);
    b.push(Buffer.alloc(4096)); // right after a big flush: coalesced
    expect(out).toHaveLength(1);
    expect(b.pendingBytes).toBe(4096);
    await sleep(BATCH.delayMs + 15);
    expect(out).toHaveLength(2);
    await sleep(BATCH.idleMs + 5);
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

  it('flush() sends what is pending now; dispose() drops it', async () => {
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
    await sleep(BATCH.delayMs + 10);
    expect(b.pendingBytes).toBe(0);
    expect(out.length).toBe(delivered);
  });
});
