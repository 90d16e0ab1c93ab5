import { describe, expect, it } from 'vitest';
import { PACK_BLOCK_BYTES, ReplayBuffer, type Chunk } from '../../lib/terminals/node/replay';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i) & 0xff);
const join = (chunks: Chunk[]) => Buffer.concat(chunks.map((c) => Buffer.from(c.data)));

describe('ReplayBuffer', () => {
  it('gives offsets and returns exactly the unseen bytes from any offset', () => {
    const r = new ReplayBuffer(1 << 20);
    const all: Uint8Array[] = [];
    const sizes = [1, 7, 3000, 20_000, 1, 1, 65_536, 5];
    let expectOffset = 0;
    sizes.forEach((n, i) => {
      const b = bytes(n, i);
      all.push(b);
      expect(r.append(b).offset).toBe(expectOffset);
      expectOffset += n;
    });
    const whole = Buffer.concat(all);
    expect(r.end).toBe(whole.length);
    for (const off of [0, 1, 5, 8, 3007, 3008, 23_008, 23_010, whole.length - 1, whole.length]) {
      const s = r.since(off);
      expect(s.from).toBe(off);
      expect(s.lost).toBe(0);
      expect(join(s.chunks).equals(whole.subarray(off))).toBe(true);
      if (s.chunks.length) expect(s.chunks[0].offset).toBe(off);
      // chunk offsets are contiguous
      let at = off;
      for (const c of s.chunks) {
        expect(c.offset).toBe(at);
        at += c.data.length;
      }
    }
  });

  it('stays bounded by dropping whole chunks from the front, and reports the gap', () => {
    const max = 100_000;
    const r = new ReplayBuffer(max);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const b = bytes(17_000 + i, i); // > pack size: each is its own chunk
      pieces.push(b);
      r.append(b);
      expect(r.bytes).toBeLessThanOrEqual(max);
    }
    const whole = Buffer.concat(pieces);
    // the start is always a chunk boundary
    let boundary = 0;
    const boundaries = new Set(pieces.map((p) => (boundary += p.length) - p.length));
    expect(boundaries.has(r.start)).toBe(true);
    expect(r.end - r.start).toBe(r.bytes);

    const s = r.since(0);
    expect(s.from).toBe(r.start);
    expect(s.lost).toBe(r.start);
    expect(join(s.chunks).equals(whole.subarray(r.start))).toBe(true);
    // an offset inside the kept range: no gap
    const mid = r.start + 12_345;
    const t = r.since(mid);
    expect(t.lost).toBe(0);
    expect(join(t.chunks).equals(whole.subarray(mid))).toBe(true);
  });

  it('keeps the newest chunk even when it alone exceeds the bound', () => {
    const r = new ReplayBuffer(10_000);
    r.append(bytes(20_000, 1));
    r.append(bytes(30_000, 2));
    expect(r.bytes).toBe(30_000);
    expect(r.start).toBe(20_000);
  });

  it('packs small chunks so an idle terminal does not hold one object per keystroke', () => {
    const r = new ReplayBuffer(1 << 20);
    const all: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      r.append(new Uint8Array([i & 0xff]));
      all.push(i & 0xff);
    }
    expect(r.chunkCount).toBeLessThanOrEqual(Math.ceil(100_000 / PACK_BLOCK_BYTES) + 1);
    expect(join(r.since(0).chunks).equals(Buffer.from(all))).toBe(true);
    expect(join(r.since(99_990).chunks).equals(Buffer.from(all.slice(99_990)))).toBe(true);
  });

  it('never changes bytes it already handed out when the packed tail grows', () => {
    const r = new ReplayBuffer(1 << 20);
    r.append(new Uint8Array([1, 2, 3]));
    const before = r.since(0).chunks[0].data;
    r.append(new Uint8Array([4, 5]));
    expect([...before]).toEqual([1, 2, 3]);
    expect([...join(r.since(0).chunks)]).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses offsets outside the stream', () => {
    const r = new ReplayBuffer(1000);
    r.append(bytes(10, 1));
    expect(() => r.since(11)).toThrow(RangeError);
    expect(() => r.since(-1)).toThrow(RangeError);
    expect(r.since(10)).toEqual({ from: 10, lost: 0, chunks: [] });
  });

  it('trims over a long run without unbounded growth of its index', () => {
    const r = new ReplayBuffer(64 * 1024);
    for (let i = 0; i < 20_000; i++) r.append(new Uint8Array(PACK_BLOCK_BYTES).fill(i & 0xff));
    expect(r.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(r.chunkCount).toBe(4);
    expect(r.end).toBe(20_000 * PACK_BLOCK_BYTES);
  });
});
