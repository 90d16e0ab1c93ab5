import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  MSG,
  decodeClientFrame,
  decodeServerFrame,
  encodeAck,
  encodeHello,
  encodeInput,
  encodeInputFrames,
  encodeOutput,
  encodePing,
  encodePong,
  encodeResize,
  encodeStatus,
  type Status,
} from '../../lib/terminals/common/protocol';

function client(bytes: Uint8Array) {
  const r = decodeClientFrame(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}
function server(bytes: Uint8Array) {
  const r = decodeServerFrame(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

describe('protocol: client -> server', () => {
  it('round-trips input as raw utf-8 bytes', () => {
    const msg = client(encodeInput('héllo ✓\r'));
    expect(msg.type).toBe('input');
    if (msg.type === 'input') expect(new TextDecoder().decode(msg.data)).toBe('héllo ✓\r');
  });

  it('splits a large paste into frames within the limit, byte-exact', () => {
    const text = 'ä'.repeat(100_000); // 200,000 bytes
    const frames = encodeInputFrames(text);
    expect(frames.length).toBe(Math.ceil(200_000 / (LIMITS.maxClientFrame - 1)));
    const parts = frames.map((f) => {
      expect(f.length).toBeLessThanOrEqual(LIMITS.maxClientFrame);
      const m = client(f);
      if (m.type !== 'input') throw new Error('not input');
      return Buffer.from(m.data);
    });
    expect(Buffer.concat(parts).toString('utf8')).toBe(text);
  });

  it('round-trips resize and rejects sizes outside 1..1000', () => {
    expect(client(encodeResize(132, 43))).toEqual({ type: 'resize', cols: 132, rows: 43 });
    expect(() => encodeResize(0, 10)).toThrow(RangeError);
    expect(() => encodeResize(10, 1001)).toThrow(RangeError);
    expect(() => encodeResize(Number.NaN, 10)).toThrow(RangeError);
    const bad = new Uint8Array([MSG.RESIZE, 0, 0, 0, 24]);
    const r = decodeClientFrame(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/1\.\.1000/);
    expect(decodeClientFrame(new Uint8Array([MSG.RESIZE, 0, 80])).ok).toBe(false);
  });

  it('round-trips acks beyond 32 bits', () => {
    for (const n of [0, 5000, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
      expect(client(encodeAck(n))).toEqual({ type: 'ack', offset: n });
    }
    expect(() => encodeAck(-1)).toThrow(RangeError);
    expect(() => encodeAck(1.5)).toThrow(RangeError);
    const tooBig = new Uint8Array(9).fill(0xff);
    tooBig[0] = MSG.ACK;
    expect(decodeClientFrame(tooBig).ok).toBe(false);
  });

  it('validates hello with zod', () => {
    const hello = { offset: 123, stream: 'abc', cols: 80, rows: 24 };
    expect(client(encodeHello(hello))).toEqual({ type: 'hello', hello });
    expect(client(encodeHello({ offset: 0, cols: 1, rows: 1000 }))).toEqual({ type: 'hello', hello: { offset: 0, cols: 1, rows: 1000 } });
    const enc = (v: unknown) => new Uint8Array([MSG.HELLO, ...new TextEncoder().encode(JSON.stringify(v))]);
    for (const bad of [
      { offset: -1, cols: 80, rows: 24 },
      { offset: 0, cols: 0, rows: 24 },
      { offset: 0, cols: 80 },
      { offset: 0, cols: 80, rows: 24, extra: 1 },
      'x',
    ]) {
      const r = decodeClientFrame(enc(bad));
      expect(r.ok, JSON.stringify(bad)).toBe(false);
    }
    const r = decodeClientFrame(new Uint8Array([MSG.HELLO, 0x7b, 0xff]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not valid UTF-8 JSON/);
  });

  it('round-trips ping', () => {
    expect(client(encodePing(0xdeadbeef))).toEqual({ type: 'ping', nonce: 0xdeadbeef });
  });

  it('refuses empty, unknown and oversized frames', () => {
    expect(decodeClientFrame(new Uint8Array(0)).ok).toBe(false);
    const unknown = decodeClientFrame(new Uint8Array([0x7f, 1]));
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error).toMatch(/unknown client message type 0x7f/);
    const big = new Uint8Array(LIMITS.maxClientFrame + 1);
    big[0] = MSG.INPUT;
    expect(decodeClientFrame(big).ok).toBe(false);
    // server frames are not client frames
    expect(decodeClientFrame(encodeOutput(0, new Uint8Array([1]))).ok).toBe(false);
  });

  it('decodes from a Node Buffer view with a non-zero byteOffset', () => {
    const pool = Buffer.alloc(100);
    const frame = encodeAck(77);
    pool.set(frame, 40);
    expect(client(pool.subarray(40, 40 + frame.length))).toEqual({ type: 'ack', offset: 77 });
  });
});

describe('protocol: server -> client', () => {
  it('round-trips output with its stream offset', () => {
    const data = new Uint8Array([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x79, 0x0d, 0x0a]);
    const msg = server(encodeOutput(2 ** 35 + 3, data));
    expect(msg.type).toBe('output');
    if (msg.type === 'output') {
      expect(msg.offset).toBe(2 ** 35 + 3);
      expect([...msg.data]).toEqual([...data]);
    }
    expect(decodeServerFrame(new Uint8Array([MSG.OUTPUT, 0, 0])).ok).toBe(false);
  });

  it('round-trips every status and rejects malformed ones', () => {
    const all: Status[] = [
      { type: 'replay', stream: 's1', from: 10, to: 20, reset: false, lost: 0 },
      { type: 'ready', stream: 's1', offset: 20, role: 'owner', cols: 80, rows: 24 },
      { type: 'role', role: 'viewer', reason: 'another window' },
      { type: 'exited', code: 3 },
      { type: 'exited', code: 0, signal: 9 },
      { type: 'closed', reason: 'session ended' },
      { type: 'error', message: 'boom', fatal: true },
    ];
    for (const s of all) expect(server(encodeStatus(s))).toEqual({ type: 'status', status: s });
    const enc = (v: unknown) => new Uint8Array([MSG.STATUS, ...new TextEncoder().encode(JSON.stringify(v))]);
    expect(decodeServerFrame(enc({ type: 'ready', stream: 's', offset: -5, role: 'owner', cols: 80, rows: 24 })).ok).toBe(false);
    expect(decodeServerFrame(enc({ type: 'nope' })).ok).toBe(false);
  });

  it('round-trips pong', () => {
    expect(server(encodePong(7))).toEqual({ type: 'pong', nonce: 7 });
  });
});
