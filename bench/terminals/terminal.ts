/**
 * The bench's "browser": a headless xterm.js that output is written into and
 * keystrokes come from (term.input fires onData exactly like typing, including
 * xterm's synchronous write after user input). It counts the bytes xterm has
 * parsed and resolves waits for markers in the parsed output, scanning only
 * each new chunk (a flood must not be re-read).
 */
import xtermHeadless from '@xterm/headless';

const { Terminal } = xtermHeadless;
type Term = InstanceType<typeof Terminal>;

interface Waiter {
  needle: string | null; // null: any output
  tail: string;
  resolve: (at: number) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class BenchTerminal {
  readonly term: Term;
  /** Bytes (or UTF-16 units, for string output) parsed by xterm so far. */
  parsed = 0;
  /** Bytes handed to xterm and not yet parsed. */
  pending = 0;
  private waiters = new Set<Waiter>();
  private drainWaiters: Array<() => void> = [];

  constructor(
    readonly cols: number,
    readonly rows: number,
    /** false: count and scan output without parsing it (a client that costs ~nothing, to stress the server). */
    readonly parse = true,
  ) {
    this.term = new Terminal({ cols, rows, scrollback: 1000, allowProposedApi: true });
  }

  /** Writes output into xterm; `rendered` runs once xterm has parsed it (the real client acks there). */
  feed(data: Uint8Array | string, rendered?: () => void): void {
    const n = data.length;
    this.pending += n;
    const done = () => {
      this.pending -= n;
      this.parsed += n;
      if (this.waiters.size) this.check(data);
      if (this.pending === 0) for (const w of this.drainWaiters.splice(0)) w();
      rendered?.();
    };
    if (this.parse) this.term.write(data, done);
    else setImmediate(done);
  }

  /** Types like a user (xterm's onData fires; the connector sends it). */
  type(data: string): void {
    this.term.input(data, true);
  }

  /** Resolves with performance.now() when `needle` (ASCII) has been parsed after this call. */
  waitFor(needle: string, timeoutMs: number): Promise<number> {
    return this.addWaiter(needle, timeoutMs);
  }

  /** Resolves with performance.now() when any output has been parsed after this call. */
  waitForOutput(timeoutMs: number): Promise<number> {
    return this.addWaiter(null, timeoutMs);
  }

  /** Resolves when xterm has parsed everything handed to it. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  dispose(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('terminal closed'));
    }
    this.waiters.clear();
    this.term.dispose();
  }

  private addWaiter(needle: string | null, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        needle,
        tail: '',
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${needle === null ? 'output' : JSON.stringify(needle)}`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  private check(chunk: Uint8Array | string): void {
    const now = performance.now();
    for (const w of this.waiters) {
      if (w.needle === null ? chunk.length > 0 : this.scan(w, chunk)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(now);
      }
    }
  }

  /** Whether the needle appears in the waiter's carried tail + this chunk; updates the tail. */
  private scan(w: Waiter, chunk: Uint8Array | string): boolean {
    const needle = w.needle!;
    const keep = needle.length - 1;
    if (typeof chunk === 'string') {
      const s = w.tail + chunk;
      if (s.includes(needle)) return true;
      w.tail = s.slice(s.length - keep);
      return false;
    }
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (b.indexOf(needle, 0, 'latin1') >= 0) return true;
    if ((w.tail + b.subarray(0, keep).toString('latin1')).includes(needle)) return true;
    const s = w.tail + b.subarray(Math.max(0, b.length - keep)).toString('latin1');
    w.tail = s.slice(s.length - keep);
    return false;
  }
}
