/**
 * Adaptive output batching. A keystroke echo must leave at once; `yes` must
 * not become a million tiny WebSocket frames. Output is sent immediately when
 * the terminal is "idle" (the previous flush was more than `idleMs` ago, or
 * was small: echoes and prompts, even when typed fast); otherwise it is
 * coalesced for `delayMs` or until `maxBytes` are waiting. Pieces handed on
 * are never larger than `maxBytes` (the largest OUTPUT payload).
 */

/** Batching knobs (tunable for the benchmark). */
export const BATCH = {
  idleMs: 8,
  smallBytes: 1024,
  delayMs: 4,
  maxBytes: 64 * 1024,
};
export type BatchTuning = typeof BATCH;

export class OutputBatcher {
  private pending: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt = -Infinity;
  private lastFlushBytes = 0;

  constructor(
    private readonly tuning: BatchTuning,
    /** Called once per piece (<= maxBytes), in order. */
    private readonly deliver: (piece: Buffer) => void,
  ) {}

  get pendingBytes(): number {
    return this.size;
  }

  push(buf: Buffer): void {
    this.pending.push(buf);
    this.size += buf.length;
    const t = this.tuning;
    if (this.size >= t.maxBytes) return this.flush();
    if (this.timer) return;
    if (this.lastFlushBytes < t.smallBytes || performance.now() - this.lastFlushAt >= t.idleMs) return this.flush();
    this.timer = setTimeout(() => this.flush(), t.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.size === 0) return;
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.size);
    this.pending = [];
    this.size = 0;
    this.lastFlushAt = performance.now();
    this.lastFlushBytes = all.length;
    for (let at = 0; at < all.length; at += this.tuning.maxBytes) this.deliver(all.subarray(at, at + this.tuning.maxBytes));
  }

  /** Drops what is pending (the terminal ended). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.size = 0;
  }
}
