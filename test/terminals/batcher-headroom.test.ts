/**
 * The output path's memory work: the batcher copies pty reads once into frames
 * with room for the OUTPUT header (written in place), and big frames are
 * recycled only once no socket and no replay chunk refers to them.
 */
import { describe, expect, it } from 'vitest';
import { BATCH, OutputBatcher } from '../../lib/terminals/node/batcher';
import { FramePool, FrameRecycler } from '../../lib/terminals/node/frames';
import { OUTPUT_HEADER_BYTES, decodeServerFrame, encodeOutput, writeOutputHeader } from '../../lib/terminals/common/protocol';

describe('OutputBatcher with header room', () => {
  it('joins reads into frames of at most maxBytes data, split anywhere, bytes intact', () => {
    const frames: Buffer[] = [];
    const tuning = { ...BATCH, maxBytes: 1000 };
    const b = new OutputBatcher(tuning, (f) => frames.push(f), OUTPUT_HEADER_BYTES);
    b.push(Buffer.alloc(2000, 1)); // first read: idle, flushed at once (split in two)
    const reads = Array.from({ length: 7 }, (_, i) => Buffer.alloc(333, i + 10));
    for (const r of reads) b.push(r); // coalesced: 2331 bytes -> frames when maxBytes is reached, rest on flush
    b.flush();
    const data = frames.map((f) => f.subarray(OUTPUT_HEADER_BYTES));
    expect(data.every((d) => d.length > 0 && d.length <= 1000)).toBe(true);
    expect(Buffer.concat(data).equals(Buffer.concat([Buffer.alloc(2000, 1), ...reads]))).toBe(true);
  });

  it('copies even a single read (the header needs room in front of it)', () => {
    const frames: Buffer[] = [];
    const b = new OutputBatcher(BATCH, (f) => frames.push(f), OUTPUT_HEADER_BYTES);
    const read = Buffer.from('echo');
    b.push(read);
    expect(frames).toHaveLength(1);
    expect(frames[0].length).toBe(OUTPUT_HEADER_BYTES + 4);
    expect(frames[0].buffer === read.buffer && frames[0].byteOffset === read.byteOffset).toBe(false);
    expect(frames[0].subarray(OUTPUT_HEADER_BYTES).toString()).toBe('echo');
  });

  it('writeOutputHeader makes the same frame as encodeOutput', () => {
    const data = Buffer.from('hello, terminal');
    const frame = Buffer.alloc(OUTPUT_HEADER_BYTES + data.length, 0xee);
    data.copy(frame, OUTPUT_HEADER_BYTES);
    writeOutputHeader(frame, 2 ** 40 + 7);
    expect(frame.equals(Buffer.from(encodeOutput(2 ** 40 + 7, data)))).toBe(true);
    const decoded = decodeServerFrame(frame);
    expect(decoded.ok && decoded.msg.type === 'output' && decoded.msg.offset).toBe(2 ** 40 + 7);
    expect(() => writeOutputHeader(new Uint8Array(4), 0)).toThrow(RangeError);
    expect(() => writeOutputHeader(frame, -1)).toThrow(RangeError);
  });
});

describe('frame recycling (frames.ts)', () => {
  it('reuses a big frame only after every socket wrote it and the replay buffer dropped it', () => {
    const pool = new FramePool(OUTPUT_HEADER_BYTES + 65536);
    let replayStart = 0;
    const rec = new FrameRecycler(pool, () => replayStart);
    const a = pool.take(OUTPUT_HEADER_BYTES + 20_000);
    expect(pool.isPooled(a)).toBe(true);
    expect(pool.isPooled(pool.take(100))).toBe(false); // small frames come from Node's pool, untracked
    const held = rec.track(a, 20_000)!;
    held.writes = 2; // sent to two sockets
    rec.release();
    expect(pool.freeCount).toBe(0);
    rec.written(held);
    replayStart = 20_000; // the replay buffer dropped it...
    rec.release();
    expect(pool.freeCount).toBe(0); // ...but one socket still holds it
    rec.written(held);
    expect(pool.freeCount).toBe(1);
    expect(pool.take(OUTPUT_HEADER_BYTES + 30_000).buffer === a.buffer).toBe(true); // the same memory, reused
  });

  it('keeps order and forgets (rather than waits for) frames past its limit', () => {
    const pool = new FramePool(OUTPUT_HEADER_BYTES + 65536, 100);
    const rec = new FrameRecycler(pool, () => 0, 3);
    for (let i = 0; i < 5; i++) rec.track(pool.take(OUTPUT_HEADER_BYTES + 65536), (i + 1) * 65536);
    rec.release();
    expect(rec.heldCount).toBe(3);
    expect(pool.freeCount).toBe(0); // forgotten ones are left to the GC, never reused while maybe in use
    rec.clear();
    expect(rec.heldCount).toBe(0);
  });
});
