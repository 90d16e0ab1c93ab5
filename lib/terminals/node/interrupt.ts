/**
 * Ctrl-C during a flood, as a local terminal shows it. On an interrupt (Ctrl-C, Ctrl-\, Ctrl-Z)
 * the kernel's tty discards the output the program wrote but the terminal has not read yet, then
 * echoes "^C". Between a host's tty and the browser, Docker keeps up to ~2 MB of such output
 * (the shim's pipe, dockerd's 1 MB stream buffer, the socket): rendered, it is seconds of `y`
 * lines after the learner pressed Ctrl-C. So when an interrupt is typed while output floods, that
 * backlog is discarded here, up to the tty's echo of the interrupt, the first byte the tty wrote
 * after its own flush. Everything from the echo on is kept.
 *
 * Bounded so a screen is never starved: only during a flood or while flow control holds output
 * back (a program in raw mode that reads Ctrl-C as a key is rarely flooding), at most `maxMs` and `maxBytes` of output, and a CAN byte
 * goes first so an escape sequence cut short ends there instead of swallowing the echo.
 */

/** The interrupt keys, each with the ways a tty echoes it (ECHOCTL on: "^C"; off: the byte itself). */
const ECHOES: Record<number, readonly string[]> = {
  0x03: ['^C', '\x03'],
  0x1c: ['^\\', '\x1c'],
  0x1a: ['^Z', '\x1a'],
};

/** CAN: ends any escape sequence in progress (ECMA-48); a no-op anywhere else. */
const CANCEL = Buffer.from([0x18]);

export const INTERRUPT = {
  /** Output faster than this, over the last `floodWindowMs`, is a flood. */
  floodBytesPerSecond: 256 * 1024,
  floodWindowMs: 250,
  maxMs: 1500,
  maxBytes: 8 * 1024 * 1024,
};

export type InterruptTuning = typeof INTERRUPT;

export interface SkipReport {
  dropped: number;
  /** The echo was found (false: a bound ended the skip). */
  found: boolean;
  ms: number;
}

export class InterruptSkip {
  /** Output of the last two flood windows: [start of the current window, bytes in it, bytes in the one before]. */
  private windowStart = 0;
  private windowBytes = 0;
  private previousBytes = 0;
  private skip: { echoes: readonly string[]; since: number; dropped: number; tail: string } | undefined;

  constructor(
    private readonly tuning: InterruptTuning = INTERRUPT,
    private readonly now: () => number = () => performance.now(),
    private readonly onEnd: (r: SkipReport) => void = () => {},
  ) {}

  get skipping(): boolean {
    return this.skip !== undefined;
  }

  /**
   * The owner typed `input`: arm the skip when it holds an interrupt key and output floods, or
   * flow control holds it back (`backlogged`: then what is read is only what the screen can draw,
   * and may look slow, while Docker holds the rest).
   */
  typed(input: Uint8Array, backlogged = false): void {
    if (this.skip || !(backlogged || this.flooding())) return;
    for (const byte of input) {
      const echoes = ECHOES[byte];
      if (echoes) {
        this.skip = { echoes, since: this.now(), dropped: 0, tail: '' };
        return;
      }
    }
  }

  /** Output from the shell: what to keep of it (all of it, unless a skip is on). */
  filter(data: Buffer): Buffer | undefined {
    this.count(data.length);
    const s = this.skip;
    if (!s) return data;
    // latin1: one char per byte, so a found index is a byte offset. `tail` is the previous chunk's
    // last byte, in case an echo ("^C") was split across two reads.
    const text = s.tail + data.toString('latin1');
    let at = -1;
    for (const echo of s.echoes) {
      const i = text.indexOf(echo);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      const start = at - s.tail.length; // -1 when the echo began in the previous chunk
      const kept = start < 0 ? Buffer.concat([Buffer.from(s.tail, 'latin1'), data]) : data.subarray(start);
      this.end(start < 0 ? s.dropped - s.tail.length : s.dropped + start, true);
      return Buffer.concat([CANCEL, kept]);
    }
    s.dropped += data.length;
    s.tail = data.length ? data.toString('latin1', data.length - 1) : s.tail;
    if (this.now() - s.since > this.tuning.maxMs || s.dropped > this.tuning.maxBytes) {
      this.end(s.dropped, false);
      // What the last read held is dropped with the rest; a CAN starts what comes next cleanly.
      return CANCEL;
    }
    return undefined;
  }

  private end(dropped: number, found: boolean): void {
    const ms = Math.round(this.now() - this.skip!.since);
    this.skip = undefined;
    this.onEnd({ dropped, found, ms });
  }

  private count(bytes: number): void {
    const now = this.now();
    const w = this.tuning.floodWindowMs;
    if (now - this.windowStart >= w) {
      // One window later: the current becomes the previous; more than one: both are quiet.
      this.previousBytes = now - this.windowStart < 2 * w ? this.windowBytes : 0;
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
  }

  /** Output in the last one to two windows, as a rate, above the flood rate. */
  private flooding(): boolean {
    this.count(0);
    const w = this.tuning.floodWindowMs;
    const span = w + (this.now() - this.windowStart);
    return ((this.previousBytes + this.windowBytes) * 1000) / span > this.tuning.floodBytesPerSecond;
  }
}
