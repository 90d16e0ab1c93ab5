/**
 * Output frame recycling. Under a flood every 64 KiB OUTPUT frame used to be a
 * fresh Buffer that the replay buffer keeps for a while: such frames outlive
 * young-generation GCs and pile up as garbage until V8's external-memory limit
 * forces a full GC (the terminals bench measured ~70 MiB of server RSS growth
 * while streaming 1 GiB; a bare ws+node-pty server grew 13 MiB). Big frames are
 * reused instead once nothing holds them any more: every socket it was sent to
 * has written it, and the replay buffer has dropped it.
 */

/** Frames smaller than this come from Node's own small-buffer pool: not worth tracking. */
const MIN_POOLED_BYTES = 8 * 1024;

export class FramePool {
  private free: Buffer[] = [];
  private readonly mine = new WeakSet<ArrayBufferLike>();

  constructor(
    /** Size of a pooled buffer: the largest frame (header + maxBytes). */
    readonly frameBytes: number,
    /** Free buffers kept; a flood needs about one (frames come back as fast as they go out). */
    private readonly maxFree = 4,
  ) {}

  /** `n` uninitialised bytes. */
  take(n: number): Buffer {
    if (n > this.frameBytes || n < MIN_POOLED_BYTES) return Buffer.allocUnsafe(n);
    let b = this.free.pop();
    if (!b) {
      b = Buffer.allocUnsafeSlow(this.frameBytes);
      this.mine.add(b.buffer);
    }
    return b.subarray(0, n);
  }

  isPooled(frame: Buffer): boolean {
    return this.mine.has(frame.buffer);
  }

  /** Returns a frame nothing refers to any more (the caller guarantees it). */
  give(frame: Buffer): void {
    if (this.free.length >= this.maxFree || !this.mine.has(frame.buffer)) return;
    this.free.push(Buffer.from(frame.buffer, 0, this.frameBytes));
  }

  get freeCount(): number {
    return this.free.length;
  }
}

interface Held {
  frame: Buffer;
  /** Stream offset just past the frame's data: the replay buffer dropped it once its start passes this. */
  end: number;
  /** Socket writes not yet done. */
  writes: number;
}

/** Tracks pooled frames in flight and gives them back, oldest first, when they are free. */
export class FrameRecycler {
  private held: Held[] = [];

  constructor(
    private readonly pool: FramePool,
    /** Offset of the oldest byte the replay buffer still keeps. */
    private readonly replayStart: () => number,
    /** Safety valve: past this many, the oldest are forgotten (left to the GC) rather than waited for. */
    private readonly maxHeld = 128,
  ) {}

  /** Registers a frame just appended to the replay buffer; undefined when it is not pooled. */
  track(frame: Buffer, end: number): Held | undefined {
    if (!this.pool.isPooled(frame)) return undefined;
    const h: Held = { frame, end, writes: 0 };
    this.held.push(h);
    return h;
  }

  /** A socket write of `h` completed (or failed): the socket no longer holds it. */
  written(h: Held): void {
    h.writes--;
    this.release();
  }

  /** Gives back every frame, oldest first, that no socket and no replay chunk refers to. */
  release(): void {
    const start = this.replayStart();
    while (this.held.length > 0) {
      const h = this.held[0];
      if (h.writes > 0 || h.end > start) {
        if (this.held.length <= this.maxHeld) return;
      } else this.pool.give(h.frame);
      this.held.shift();
    }
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** The terminal ended: forget everything (the GC takes it). */
  clear(): void {
    this.held = [];
  }
}
