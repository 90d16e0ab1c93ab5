/**
 * The measurements, all taken at the headless xterm (a keystroke goes in with
 * term.input, a result counts once xterm has parsed it):
 *  - echo: type one letter at a bash prompt (readline's normal line editing,
 *    no `stty raw`), time until that letter is parsed; then erase it with
 *    Backspace (not timed) and pause, so every sample starts from an idle line;
 *  - throughput: `yes <80-column line> | head -c N`, bytes parsed / time from
 *    Enter to the end marker being parsed;
 *  - ctrl-c: during `yes`, once 2 MB have been parsed, time from Ctrl-C to the
 *    next prompt being parsed.
 * Markers are split in the typed commands (`__E''ND__`) so the echo of the
 * command line never matches.
 */
import { sleep } from '../lib/stats';
import type { Connection } from './connectors';
import type { BenchTerminal } from './terminal';

export const PROMPT_MARK = '__P__';
const END_MARK = '__END__';
/** 79 printable columns + newline: a realistic log/listing line. */
export const LINE = 'labforge-bench 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ !?';

/** Waits until xterm has parsed nothing new for `ms`. */
export async function quiet(bt: BenchTerminal, ms: number, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  let last = bt.parsed;
  let since = performance.now();
  while (performance.now() < until) {
    await sleep(Math.min(25, ms));
    if (bt.parsed !== last || bt.pending > 0) {
      last = bt.parsed;
      since = performance.now();
    } else if (performance.now() - since >= ms) return;
  }
  throw new Error(`output did not settle within ${timeoutMs} ms`);
}

/** Waits for the login shell, then sets a prompt the bench can recognise. */
export async function prepareShell(c: Connection): Promise<void> {
  await c.bt.waitForOutput(30_000);
  await quiet(c.bt, 300);
  const prompt = c.bt.waitFor(PROMPT_MARK, 15_000);
  c.bt.type(`PS1='__P''__\\$ '; unset PROMPT_COMMAND\r`);
  await prompt;
  await quiet(c.bt, 200);
}

export async function echoLatency(c: Connection, samples: number, warmup: number, gapMs: number): Promise<number[]> {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const out: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const ch = letters[i % letters.length];
    const seen = c.bt.waitFor(ch, 10_000);
    const t0 = performance.now();
    c.bt.type(ch);
    const t1 = await seen;
    if (i >= warmup) out.push(t1 - t0);
    const erased = c.bt.waitForOutput(10_000);
    c.bt.type('\x7f');
    await erased;
    await sleep(gapMs + Math.random() * gapMs);
  }
  return out;
}

export interface Throughput {
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

export async function throughput(c: Connection, bytes: number, timeoutMs: number): Promise<Throughput> {
  const done = c.bt.waitFor(END_MARK, timeoutMs);
  const p0 = c.bt.parsed;
  const t0 = performance.now();
  c.bt.type(`yes '${LINE}' | head -c ${bytes}; echo __E''ND__\r`);
  const t1 = await done;
  const parsed = c.bt.parsed - p0;
  const seconds = (t1 - t0) / 1000;
  await quiet(c.bt, 200);
  return { bytes: parsed, seconds, mbPerSec: parsed / seconds / 1e6 };
}

export interface CtrlC {
  ms: number;
  /** Bytes parsed between Ctrl-C and the prompt (output that was already in flight). */
  tailBytes: number;
}

export async function ctrlC(c: Connection, warmBytes: number): Promise<CtrlC> {
  const p0 = c.bt.parsed;
  c.bt.type('yes\r');
  const until = performance.now() + 60_000;
  while (c.bt.parsed - p0 < warmBytes) {
    if (performance.now() > until) throw new Error('`yes` produced too little output');
    await sleep(5);
  }
  const prompt = c.bt.waitFor(PROMPT_MARK, 30_000);
  const p1 = c.bt.parsed;
  const t0 = performance.now();
  c.bt.type('\x03');
  const t1 = await prompt;
  const tailBytes = c.bt.parsed - p1;
  await quiet(c.bt, 200);
  return { ms: t1 - t0, tailBytes };
}

/** Leaves the shell (so nothing keeps running in the container) and closes the transport. */
export async function closeShell(c: Connection): Promise<void> {
  c.bt.type('exit\r');
  await Promise.race([c.closed, sleep(3000)]);
  c.close();
  c.bt.dispose();
}
