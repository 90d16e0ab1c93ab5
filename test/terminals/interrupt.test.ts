import { describe, expect, it } from 'vitest';
import { INTERRUPT, InterruptSkip, type SkipReport } from '../../lib/terminals/node/interrupt';
import { AckDelay, FlowControl, RenderRate } from '../../lib/terminals/node/flow';
import { FLOW } from '../../lib/terminals/common/protocol';
import { log } from '../../lib/base/log';

const CAN = '\x18';
const ys = (n: number) => Buffer.from('y\r\n'.repeat(Math.ceil(n / 3)).slice(0, n), 'latin1');

/** A skip on a hand-moved clock, with a flood of `bytes` over the last 300 ms already seen. */
function flooded(bytes = 1024 * 1024) {
  let t = 10_000;
  const reports: SkipReport[] = [];
  const skip = new InterruptSkip(
    INTERRUPT,
    () => t,
    (r) => reports.push(r),
  );
  for (let i = 0; i < 6; i++) {
    skip.filter(ys(bytes / 6));
    t += 50;
  }
  return { skip, reports, advance: (ms: number) => (t += ms) };
}

const text = (b: Buffer | undefined) => b?.toString('latin1');

describe('interrupt skip', () => {
  it('discards what was written before the echo of Ctrl-C, and keeps the echo and everything after it', () => {
    const { skip, reports } = flooded();
    skip.typed(Buffer.from([0x03]));
    expect(skip.skipping).toBe(true);
    expect(skip.filter(ys(65536))).toBeUndefined();
    expect(text(skip.filter(Buffer.from('y\r\ny\r\n^C\r\nroot@ws:~# ', 'latin1')))).toBe(`${CAN}^C\r\nroot@ws:~# `);
    expect(skip.skipping).toBe(false);
    expect(reports).toEqual([{ dropped: 65536 + 6, found: true, ms: 0 }]);
    // Back to normal: output passes untouched.
    expect(text(skip.filter(Buffer.from('ls\r\n')))).toBe('ls\r\n');
  });

  it('finds an echo split across two reads', () => {
    const { skip, reports } = flooded();
    skip.typed(Buffer.from('\x03'));
    expect(skip.filter(Buffer.from('y\r\ny^', 'latin1'))).toBeUndefined();
    expect(text(skip.filter(Buffer.from('C\r\n# ', 'latin1')))).toBe(`${CAN}^C\r\n# `);
    expect(reports[0]).toMatchObject({ dropped: 4, found: true });
  });

  it('knows the echo of each interrupt key, with and without ECHOCTL', () => {
    for (const [key, echo] of [
      [0x1a, '^Z'],
      [0x1c, '^\\'],
      [0x03, '\x03'],
    ] as const) {
      const { skip } = flooded();
      skip.typed(Buffer.from([0x61, key])); // the interrupt may come with other keys
      expect(text(skip.filter(Buffer.from(`yyy${echo}\r\n$ `, 'latin1')))).toBe(`${CAN}${echo}\r\n$ `);
    }
  });

  it('does nothing when output is not flooding: a quiet screen keeps every byte', () => {
    let t = 0;
    const skip = new InterruptSkip(INTERRUPT, () => t);
    skip.filter(Buffer.from('root@ws:~# '));
    t += 1000;
    skip.typed(Buffer.from([0x03]));
    expect(skip.skipping).toBe(false);
    expect(text(skip.filter(Buffer.from('^C\r\nroot@ws:~# ')))).toBe('^C\r\nroot@ws:~# ');
  });

  it('arms while flow control holds output back, however slowly the screen lets it through', () => {
    let t = 0;
    const skip = new InterruptSkip(INTERRUPT, () => t);
    skip.filter(ys(40 * 1024)); // 40 KiB a second: what a busy browser draws, well under the flood rate
    t += 1000;
    skip.typed(Buffer.from([0x03]), true);
    expect(skip.skipping).toBe(true);
    expect(text(skip.filter(Buffer.from('y\r\n^C\r\n# ', 'latin1')))).toBe(`${CAN}^C\r\n# `);
  });

  it('a flood that ended a second ago is no flood', () => {
    const { skip, advance } = flooded();
    advance(1000);
    skip.typed(Buffer.from([0x03]));
    expect(skip.skipping).toBe(false);
  });

  it('other keys during a flood arm nothing', () => {
    const { skip } = flooded();
    skip.typed(Buffer.from('q\r'));
    expect(skip.skipping).toBe(false);
  });

  it('gives up after maxMs without an echo (a program that reads Ctrl-C as a key), and output flows again', () => {
    const { skip, reports, advance } = flooded();
    skip.typed(Buffer.from([0x03]));
    expect(skip.filter(ys(1000))).toBeUndefined();
    advance(INTERRUPT.maxMs + 1);
    expect(text(skip.filter(ys(1000)))).toBe(CAN);
    expect(skip.skipping).toBe(false);
    expect(reports).toEqual([{ dropped: 2000, found: false, ms: INTERRUPT.maxMs + 1 }]);
    expect(text(skip.filter(Buffer.from('frame')))).toBe('frame');
  });

  it('gives up after maxBytes without an echo', () => {
    const { skip, reports } = flooded();
    skip.typed(Buffer.from([0x03]));
    let out: Buffer | undefined;
    let reads = 0;
    while (skip.skipping && reads++ < 1000) out = skip.filter(ys(64 * 1024));
    expect(text(out)).toBe(CAN);
    expect(reports[0].found).toBe(false);
    expect(reports[0].dropped).toBeGreaterThan(INTERRUPT.maxBytes);
    expect(reports[0].dropped).toBeLessThanOrEqual(INTERRUPT.maxBytes + 64 * 1024);
  });
});

describe('render rate and the flow-control window', () => {
  it('measures the speed of a screen that stays behind, and ignores acks after idle time', () => {
    let t = 0;
    const rate = new RenderRate(20, () => t);
    rate.sample(32 * 1024, true);
    t += 5000; // idle, then behind again: no sample spans the idle time
    rate.sample(64 * 1024, false);
    rate.sample(96 * 1024, true);
    expect(rate.bytesPerSecond).toBeUndefined();
    t += 32; // 32 KiB in 32 ms: 1 MiB/s
    rate.sample(128 * 1024, true);
    expect(rate.bytesPerSecond).toBeCloseTo(1024 * 1000, -2);
    t += 2;
    rate.sample(140 * 1024, true); // 2 ms later: too short a span to measure
    expect(rate.bytesPerSecond).toBeCloseTo(1024 * 1000, -2);
    t += 32; // then 64 KiB in 32 ms, 2 MiB/s: smoothed toward it
    rate.sample(192 * 1024, true);
    expect(rate.bytesPerSecond!).toBeGreaterThan(1024 * 1000);
    expect(rate.bytesPerSecond!).toBeLessThan(2048 * 1000);
    rate.reset();
    expect(rate.bytesPerSecond).toBeUndefined();
  });

  function flowFor(bytesPerSecond: number | undefined) {
    const flow = new FlowControl({ ...FLOW }, { replayBytes: 4 << 20, batchBytes: 64 << 10 }, () => ({ owner: undefined, produced: 0 }), log);
    flow.rate.bytesPerSecond = bytesPerSecond;
    return flow;
  }

  it('holds renderTargetMs of the screen’s rendering, within its bounds', () => {
    expect(flowFor(undefined).window).toBe(FLOW.pauseAboveBytes); // not measured yet
    expect(flowFor(1_000_000).window).toBe(Math.round((1_000_000 * FLOW.renderTargetMs) / 1000));
    expect(flowFor(10_000).window).toBe(FLOW.minWindowBytes); // a crawling screen still gets a usable window
    expect(flowFor(100_000_000).window).toBe(FLOW.pauseAboveBytes);
  });

  it('pauses the shell past the window and resumes below its lower mark; draining always reads on', () => {
    const owner = { ready: true, unacked: 0 };
    let draining = false;
    const calls: string[] = [];
    const flow = new FlowControl({ ...FLOW }, { replayBytes: 4 << 20, batchBytes: 64 << 10 }, () => ({ owner: owner as never, produced: 0, draining }), log);
    flow.rate.bytesPerSecond = 1_000_000; // window 150 000
    flow.start({ pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    owner.unacked = 140_000;
    flow.update();
    owner.unacked = 160_000;
    flow.update();
    owner.unacked = 100_000; // above the lower mark (75 000): still paused
    flow.update();
    owner.unacked = 70_000;
    flow.update();
    owner.unacked = 160_000;
    flow.update();
    draining = true;
    flow.update();
    expect(calls).toEqual(['pause', 'resume', 'pause', 'resume']);
  });

  it('says output is held back while paused and for half a second after it resumed', () => {
    let t = 0;
    const owner = { ready: true, unacked: 0 };
    const flow = new FlowControl(
      { ...FLOW },
      { replayBytes: 4 << 20, batchBytes: 64 << 10 },
      () => ({ owner: owner as never, produced: 0 }),
      log,
      () => t,
    );
    flow.start({ pause: () => undefined, resume: () => undefined });
    expect(flow.backlogged).toBe(false);
    owner.unacked = FLOW.pauseAboveBytes + 1;
    flow.update();
    expect(flow.backlogged).toBe(true);
    owner.unacked = 0;
    flow.update();
    t += 400;
    expect(flow.backlogged).toBe(true);
    t += 200;
    expect(flow.backlogged).toBe(false);
  });

  it("knows the owner's round trip from the quickest ack of what was sent, over the last acks", () => {
    let t = 0;
    const d = new AckDelay(3, () => t);
    expect(d.ms).toBe(0);
    d.sent(100);
    d.sent(200);
    t += 80;
    d.acked(150); // covers the first send only
    expect(d.ms).toBe(80);
    t += 40;
    d.acked(200);
    expect(d.ms).toBe(80); // the second send, 120 ms ago
    for (const rtt of [300, 310, 320]) {
      d.sent(t);
      t += rtt;
      d.acked(t - rtt);
    }
    expect(d.ms).toBe(300); // only the last 3 are kept
  });

  it('a far owner keeps a window its round trip can fill: it does not shrink to one window per round trip', () => {
    let t = 0;
    const flow = new FlowControl(
      { ...FLOW },
      { replayBytes: 4 << 20, batchBytes: 64 << 10 },
      () => ({ owner: undefined, produced: 0 }),
      log,
      () => t,
    );
    // An echo's round trip: 300 ms.
    flow.sent(10);
    t += 300;
    flow.acked(10, 0);
    // A screen that renders 2 MB/s behind that link. Each round: what the window lets through is
    // what the acks show (rate = window / round trip, or the render speed), and the window follows.
    const renders = 2_000_000;
    for (let i = 0; i < 20; i++) flow.rate.bytesPerSecond = Math.min(renders, flow.window / 0.3);
    expect(flow.window).toBeGreaterThan(400_000); // without the round trip in it: the 64 KiB minimum
    expect(flow.rate.bytesPerSecond!).toBeGreaterThan(1_300_000);
  });
});
