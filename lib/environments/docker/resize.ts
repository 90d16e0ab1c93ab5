/**
 * Terminal resizes over the Engine API, coalesced. Each resize is an HTTP call to the engine,
 * and a window being dragged sends dozens a second: a burst within `delayMs` becomes one call
 * with the last size, at most one call is in flight, and whatever arrives meanwhile becomes one
 * more call with the latest size when it returns. A failed call (the exec ended: the resize
 * raced the exit) is reported to `onError` and forgotten; it never fails the terminal.
 */

export interface Size {
  cols: number;
  rows: number;
}

export class CoalescedResize {
  private wanted: Size | undefined;
  private applied: Size | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly apply: (size: Size) => Promise<unknown>,
    private readonly onError: (err: unknown, size: Size) => void = () => {},
    private readonly delayMs = 10,
  ) {}

  /** The terminal should be this size; the call happens soon, merged with any others. */
  request(cols: number, rows: number): void {
    if (this.stopped) return;
    this.wanted = { cols, rows };
    if (!this.timer && !this.running) this.timer = setTimeout(() => this.run(), this.delayMs);
  }

  /** The terminal is this size already (set by the caller itself): no call for it. */
  assume(cols: number, rows: number): void {
    this.applied = { cols, rows };
  }

  /** No more calls (the exec ended); one in flight finishes on its own. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once nothing is waiting or in flight (tests, and a caller that wants the size applied). */
  async settled(): Promise<void> {
    while (this.timer || this.running) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, this.delayMs));
    }
  }

  private run(): void {
    this.timer = undefined;
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.wanted && !same(this.wanted, this.applied)) {
      const size = this.wanted;
      try {
        await this.apply(size);
        this.applied = size;
      } catch (err) {
        this.onError(err, size);
        // Not retried: the next request (or none, when the exec has ended) decides.
        if (same(this.wanted, size)) return;
      }
    }
  }
}

function same(a: Size | undefined, b: Size | undefined): boolean {
  return !!a && !!b && a.cols === b.cols && a.rows === b.rows;
}
