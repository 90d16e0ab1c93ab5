/**
 * The Docker terminal's seam parts without an engine: resizes coalesced into few Engine API
 * calls (docker/resize.ts), and the exec stream as a TerminalProcess (docker/exec-stream.ts)
 * over a real socket pair, with a fake exec standing in for the engine's answers.
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CoalescedResize, type Size } from '../../lib/environments/docker/resize';
import { ExecStreamProcess, UNKNOWN_EXIT, type ExecHandle } from '../../lib/environments/docker/exec-stream';
import { sleep, waitFor } from '../support/wait';

/** An apply function whose calls finish when the test says so. */
function gatedApply() {
  const calls: Size[] = [];
  const gates: Array<(err?: Error) => void> = [];
  const apply = (size: Size) => {
    calls.push(size);
    return new Promise<void>((resolve, reject) => gates.push((err) => (err ? reject(err) : resolve())));
  };
  return { calls, apply, open: (err?: Error) => gates.shift()!(err), pending: () => gates.length };
}

describe('resizes over the Engine API, coalesced', () => {
  it('turns a burst into one call with the last size', async () => {
    const g = gatedApply();
    const r = new CoalescedResize(g.apply);
    for (let i = 1; i <= 10; i++) r.request(80 + i, 24 + i);
    await waitFor('a call', () => g.pending() === 1);
    g.open();
    await r.settled();
    expect(g.calls).toEqual([{ cols: 90, rows: 34 }]);
  });

  it('keeps one call in flight; what arrives meanwhile becomes one call with the latest size', async () => {
    const g = gatedApply();
    const r = new CoalescedResize(g.apply, undefined, 0);
    r.request(100, 30);
    await waitFor('first call', () => g.pending() === 1);
    for (let i = 0; i < 5; i++) r.request(110 + i, 40);
    await sleep(30);
    expect(g.calls).toHaveLength(1); // nothing more while the first is in flight
    g.open();
    await waitFor('second call', () => g.pending() === 1);
    g.open();
    await r.settled();
    expect(g.calls).toEqual([
      { cols: 100, rows: 30 },
      { cols: 114, rows: 40 },
    ]);
    r.request(114, 40); // already applied
    await r.settled();
    expect(g.calls).toHaveLength(2);
  });

  it('reports a failed call and carries on; nothing after stop()', async () => {
    const g = gatedApply();
    const errors: string[] = [];
    const r = new CoalescedResize(g.apply, (err) => errors.push((err as Error).message), 0);
    r.request(50, 20);
    await waitFor('call', () => g.pending() === 1);
    g.open(new Error('process not running'));
    await r.settled();
    expect(errors).toEqual(['process not running']);
    r.request(60, 20);
    await waitFor('next call', () => g.pending() === 1);
    g.open();
    await r.settled();
    r.stop();
    r.request(70, 20);
    await sleep(30);
    expect(g.calls.map((c) => c.cols)).toEqual([50, 60]);
  });
});

/** A connected pair of unix sockets: `engine` plays dockerd's end of the hijacked connection. */
async function socketPair(): Promise<{ client: net.Socket; engine: net.Socket; close(): void }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'lf-stream-')), 's');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(file, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect(file);
  await new Promise((r) => client.once('connect', r));
  const engine = await accepted;
  return { client, engine, close: () => server.close() };
}

function fakeExec(states: Array<{ Running: boolean; ExitCode: number | null } | Error>) {
  const resizes: Array<{ h: number; w: number }> = [];
  const exec: ExecHandle = {
    id: 'abcdef0123456789',
    resize: async (o) => void resizes.push(o),
    inspect: async () => {
      const s = states.length > 1 ? states.shift()! : states[0];
      if (s instanceof Error) throw s;
      return s;
    },
  };
  return { exec, resizes };
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

async function open(states: Parameters<typeof fakeExec>[0] = [{ Running: false, ExitCode: 0 }]) {
  const pair = await socketPair();
  cleanups.push(() => {
    pair.engine.destroy();
    pair.client.destroy();
    pair.close();
  });
  const { exec, resizes } = fakeExec(states);
  const proc = new ExecStreamProcess(exec, pair.client, { cols: 120, rows: 40 }, { resizeDelayMs: 0 });
  const got: Buffer[] = [];
  const exits: Array<{ exitCode: number }> = [];
  proc.onExit((e) => exits.push(e));
  return { ...pair, proc, resizes, got, exits, text: () => Buffer.concat(got).toString() };
}

describe('an Engine API exec stream as a terminal process', () => {
  it('sets the size at start, passes input and output, and loses nothing sent before a listener', async () => {
    const t = await open();
    t.engine.write('prompt# ');
    await sleep(30); // arrives before anyone listens: the socket keeps it
    t.proc.onData((d) => t.got.push(d));
    await waitFor('output', () => t.text() === 'prompt# ');
    const typed: Buffer[] = [];
    t.engine.on('data', (d: Buffer) => typed.push(d));
    t.proc.write('ls\r');
    t.proc.write(Buffer.from([3]));
    await waitFor('input', () => Buffer.concat(typed).equals(Buffer.from('ls\r\x03')));
    await waitFor('size', () => t.resizes.length === 1);
    expect(t.resizes).toEqual([{ h: 40, w: 120 }]);
  });

  it('takes a size the opener already set as applied: no call until the size changes', async () => {
    const pair = await socketPair();
    cleanups.push(() => {
      pair.engine.destroy();
      pair.client.destroy();
      pair.close();
    });
    const { exec, resizes } = fakeExec([{ Running: false, ExitCode: 0 }]);
    const proc = new ExecStreamProcess(exec, pair.client, { cols: 120, rows: 40 }, { resizeDelayMs: 0, sizeApplied: true });
    proc.resize(120, 40);
    await sleep(30);
    expect(resizes).toEqual([]);
    proc.resize(100, 30);
    await waitFor('resize', () => resizes.length === 1);
    expect(resizes).toEqual([{ h: 30, w: 100 }]);
  });

  it('pause stops reading: the writer meets backpressure; resume delivers everything in order', async () => {
    const t = await open();
    let received = 0;
    t.proc.onData((d) => {
      t.got.push(d);
      received += d.length;
    });
    t.proc.pause();
    const chunk = Buffer.alloc(64 * 1024, 'y');
    let written = 0;
    // The engine's side writes until the socket pushes back (the kernel buffers and ours are full).
    while (t.engine.write(chunk) && written < 64 * 1024 * 1024) written += chunk.length;
    written += chunk.length;
    await sleep(100);
    expect(received).toBe(0);
    expect(t.engine.writableNeedDrain).toBe(true);
    t.proc.resume();
    await waitFor('all output', () => received === written, 5_000);
    expect(Buffer.concat(t.got).every((b) => b === 0x79)).toBe(true);
    await waitFor('drained', () => !t.engine.writableNeedDrain);
  });

  it('reports the exit code from the engine once the stream ends, and then takes no input or resize', async () => {
    const t = await open([
      { Running: true, ExitCode: null },
      { Running: false, ExitCode: 3 },
    ]);
    t.proc.onData((d) => t.got.push(d));
    await waitFor('size', () => t.resizes.length === 1);
    t.engine.end('bye\r\n');
    await waitFor('exit', () => t.exits.length === 1);
    expect(t.exits).toEqual([{ exitCode: 3 }]);
    expect(t.text()).toBe('bye\r\n');
    t.proc.resize(10, 10);
    t.proc.write('ignored');
    await sleep(30);
    expect(t.resizes).toHaveLength(1);
    await t.proc.close(); // idempotent after the end
    expect(t.exits).toHaveLength(1);
    const late: number[] = [];
    t.proc.onExit((e) => late.push(e.exitCode));
    await waitFor('late listener told', () => late.length === 1);
  });

  it('a stream cut with the engine gone reports an exit all the same', async () => {
    const t = await open([new Error('connect ECONNREFUSED /var/run/docker.sock')]);
    t.proc.onData((d) => t.got.push(d));
    t.engine.destroy();
    await waitFor('exit', () => t.exits.length === 1);
    expect(t.exits).toEqual([{ exitCode: UNKNOWN_EXIT }]);
  });

  it('close() ends the connection and resolves after the exit was reported', async () => {
    const t = await open([{ Running: false, ExitCode: 137 }]);
    t.proc.onData((d) => t.got.push(d));
    let engineSawClose = false;
    t.engine.on('close', () => (engineSawClose = true));
    t.engine.resume();
    await t.proc.close();
    expect(t.exits).toEqual([{ exitCode: 137 }]);
    await waitFor('engine side closed', () => engineSawClose);
  });
});
