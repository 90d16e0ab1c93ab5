/**
 * The physical floor of the echo path on this machine, measured in the bench
 * process itself with no WebSocket, no server and no xterm: type a letter,
 * time until its echo comes back.
 *  - pty: node-pty running the same shell command (`docker exec -it … bash -l`):
 *    what no web terminal on this path can beat;
 *  - engineApi (docker path only): an exec with a TTY through the Docker Engine
 *    API (dockerode, hijacked stream): no docker CLI and no local pty in the
 *    way, i.e. what a driver talking to the engine directly could reach.
 * And the throughput ceilings: the same shell command's pty read as fast as
 * possible by a consumer that only counts (the path's own limit), and headless
 * xterm parsing the payload from memory (the client's limit).
 */
import type { Duplex } from 'node:stream';
import Dockerode from 'dockerode';
import pty from 'node-pty';
import { sleep } from '../lib/stats';
import type { ShellCommand } from './container';
import { BenchTerminal } from './terminal';

interface Line {
  write(data: Buffer | string): void;
  onData(fn: (d: Buffer) => void): void;
  close(): void;
}

async function sampleEcho(line: Line, what: string, samples: number, gapMs: number): Promise<number[]> {
  let waiter: { needle: number | null; resolve: (t: number) => void } | undefined;
  let lastData = performance.now();
  line.onData((b) => {
    const now = performance.now();
    lastData = now;
    if (waiter && (waiter.needle === null || b.includes(waiter.needle))) {
      waiter.resolve(now);
      waiter = undefined;
    }
  });
  const next = (needle: number | null) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo from ${what} within 10 s`)), 10_000);
      waiter = {
        needle,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
    });
  try {
    await next(null); // the login shell's prompt, then quiet
    while (performance.now() - lastData < 300) await sleep(50);
    const out: number[] = [];
    for (let i = 0; i < samples + 10; i++) {
      const ch = 'abcdefghijklmnopqrstuvwxyz'.charCodeAt(i % 26);
      const seen = next(ch);
      const t0 = performance.now();
      line.write(Buffer.from([ch]));
      const t1 = await seen;
      if (i >= 10) out.push(t1 - t0);
      const erased = next(null);
      line.write('\x7f');
      await erased;
      await sleep(gapMs + Math.random() * gapMs);
    }
    line.write('exit\r');
    await sleep(200);
    return out;
  } finally {
    line.close();
  }
}

export function ptyEchoFloor(shell: ShellCommand, samples: number, gapMs: number): Promise<number[]> {
  const env = shell.env ?? (process.env as Record<string, string>);
  const term = pty.spawn(shell.file, shell.args, { name: 'xterm-256color', cols: 120, rows: 32, cwd: process.cwd(), env, encoding: null });
  return sampleEcho(
    {
      write: (d) => term.write(d),
      onData: (fn) => term.onData((d: string | Buffer) => fn(typeof d === 'string' ? Buffer.from(d) : d)),
      close: () => term.kill(),
    },
    shell.file,
    samples,
    gapMs,
  );
}

export async function engineApiEchoFloor(containerRef: string, argv: string[], samples: number, gapMs: number): Promise<number[]> {
  const exec = await new Dockerode().getContainer(containerRef).exec({
    Cmd: argv,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: ['TERM=xterm-256color'],
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as unknown as Duplex & { setNoDelay?: (b: boolean) => void };
  stream.setNoDelay?.(true);
  return sampleEcho(
    { write: (d) => stream.write(d), onData: (fn) => stream.on('data', fn), close: () => stream.destroy() },
    'the Docker Engine API exec',
    samples,
    gapMs,
  );
}

/** MB/s headless xterm parses `line`+CRLF repeated (64 KiB writes, each after the previous one was parsed, as acks would pace it). */
export async function xtermParseRate(line: string, bytes: number, cols: number, rows: number): Promise<number> {
  const bt = new BenchTerminal(cols, rows);
  const one = Buffer.from(`${line}\r\n`);
  const chunk = Buffer.concat(Array(Math.floor(65536 / one.length)).fill(one));
  const t0 = performance.now();
  // Keep ~4 chunks queued, like a flow-control window: xterm is never idle, never flooded.
  await new Promise<void>((resolve) => {
    let sent = 0;
    const pump = () => {
      while (bt.pending < 4 * chunk.length && sent < bytes) {
        sent += chunk.length;
        bt.feed(chunk, pump);
      }
      if (sent >= bytes && bt.pending === 0) resolve();
    };
    pump();
  });
  const mbps = bt.parsed / ((performance.now() - t0) / 1000) / 1e6;
  bt.dispose();
  return mbps;
}

/** MB/s the shell command's pty delivers `yes <line> | head -c bytes` to a consumer that only counts. */
export async function ptyThroughput(shell: ShellCommand, line: string, bytes: number): Promise<number> {
  const env = shell.env ?? (process.env as Record<string, string>);
  const term = pty.spawn(shell.file, shell.args, { name: 'xterm-256color', cols: 120, rows: 32, cwd: process.cwd(), env, encoding: null });
  try {
    let got = 0;
    let tail = '';
    let ended = false;
    let last = performance.now();
    term.onData((d: string | Buffer) => {
      const b = typeof d === 'string' ? Buffer.from(d) : d;
      got += b.length;
      last = performance.now();
      const s = tail + b.toString('latin1');
      if (s.includes('__END__')) ended = true;
      tail = s.slice(-8);
    });
    const until = (cond: () => boolean, ms: number) =>
      new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (cond()) {
            clearInterval(t);
            resolve();
          } else if (performance.now() - last > ms) {
            clearInterval(t);
            reject(new Error(`${shell.file}: no output for ${ms} ms`));
          }
        }, 5);
      });
    await until(() => got > 0 && performance.now() - last > 300, 30_000); // prompt, then quiet
    const g0 = got;
    const t0 = performance.now();
    term.write(`yes '${line}' | head -c ${bytes}; echo __E''ND__\r`);
    await until(() => ended, 30_000);
    const mbps = (got - g0) / ((performance.now() - t0) / 1000) / 1e6;
    term.write('exit\r');
    await sleep(200);
    return mbps;
  } finally {
    term.kill();
  }
}
