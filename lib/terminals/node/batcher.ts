/**
 * Adaptive output batching. A keystroke echo must leave at once; `yes` must
 * not become a million tiny WebSocket frames. Output is sent immediately when
 * the terminal is "idle" (the previous flush was more than `idleMs` ago, or
 * was small: echoes and prompts, even when typed fast); otherwise it is
 * coalesced for `delayMs` or until `maxBytes` are waiting. Pieces handed on
 * are never larger than `maxBytes` (the largest OUTPUT payload).
 *
 * With `headroom` > 0 every piece is copied once into a fresh buffer that has
 * `headroom` spare bytes in front, for the caller's frame header: the frame
 * goes out without a second copy (the bench showed the copies and the zeroed
 * allocations as the server's main cost per byte after the socket writes).
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
    /**
     * Called once per piece, in order. The piece's data is `piece.subarray(headroom)`
     * (<= maxBytes); the first `headroom` bytes are uninitialised, for the caller to fill.
     */
    private readonly deliver: (piece: Buffer) => void,
    private readonly headroom = 0,
    /** Where pieces come from (frames.ts recycles them); uninitialised memory is fine. */
    private readonly alloc: (size: number) => Buffer = Buffer.allocUnsafe,
  ) {}

  get pendingBytes(): number {
    return this.size;
  }

  push(buf: Buffer): void {
    if (buf.length === 0) return;
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
    const pending = this.pending;
    const total = this.size;
    this.pending = [];
    this.size = 0;
    this.lastFlushAt = performance.now();
    this.lastFlushBytes = total;
    const max = this.tuning.maxBytes;
    const h = this.headroom;
    if (h === 0 && pending.length === 1) {
      // Nothing to join and no header room wanted: hand on views, no copy.
      for (let at = 0; at < total; at += max) this.deliver(pending[0].subarray(at, at + max));
      return;
    }
    // Copy the pending reads into pieces of at most `max` data bytes (every data byte is written).
    let i = 0;
    let from = 0; // position inside pending[i]
    for (let left = total; left > 0;) {
      const n = Math.min(max, left);
      const piece = this.alloc(h + n);
      for (let at = h; at < h + n;) {
        const src = pending[i];
        const take = Math.min(src.length - from, h + n - at);
        src.copy(piece, at, from, from + take);
        at += take;
        from += take;
        if (from === src.length) {
          i++;
          from = 0;
        }
      }
      left -= n;
      this.deliver(piece);
    }
  }

  /** Drops what is pending (the terminal ended). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.size = 0;
  }
}
