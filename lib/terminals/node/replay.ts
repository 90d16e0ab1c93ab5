/**
 * A bounded, offset-addressed buffer of a terminal's recent output. Chunks are
 * kept whole and dropped whole from the front; small chunks (keystroke echoes)
 * are packed into a shared tail block so an idle terminal does not keep a
 * million 1-byte objects. `since(offset)` hands a reconnecting client exactly
 * the bytes it has not seen, or says how many were lost when its offset is
 * older than what is kept.
 */

export interface Chunk {
  /** Position of `data[0]` in the terminal's whole output stream. */
  offset: number;
  data: Uint8Array;
}

export interface SinceResult {
  /** First offset returned (the client's offset, or the oldest retained byte after a gap). */
  from: number;
  /** Bytes between the client's offset and `from` that are no longer kept (0 = no gap). */
  lost: number;
  chunks: Chunk[];
}

/** Chunks smaller than this are packed together into a block of this size. */
export const PACK_BLOCK_BYTES = 16 * 1024;
export const DEFAULT_REPLAY_BYTES = 1024 * 1024;

export class ReplayBuffer {
  private chunks: Chunk[] = [];
  private head = 0; // index of the first live chunk (avoids O(n) shift)
  private retained = 0;
  private total = 0;
  /** Backing store of the last chunk when it is a packed block, with spare room. */
  private block: Uint8Array | null = null;

  constructor(readonly maxBytes: number = DEFAULT_REPLAY_BYTES) {
    if (!(maxBytes > 0)) throw new RangeError('replay buffer size must be positive');
  }

  /** Offset just after the last byte ever appended (= total output length). */
  get end(): number {
    return this.total;
  }
  /** Offset of the oldest byte still kept. */
  get start(): number {
    return this.total - this.retained;
  }
  get bytes(): number {
    return this.retained;
  }
  get chunkCount(): number {
    return this.chunks.length - this.head;
  }

  /**
   * Appends output. Takes ownership of `data` when it is large (no copy); small
   * pieces are copied into the tail block. Returns where the bytes landed.
   */
  append(data: Uint8Array): Chunk {
    const offset = this.total;
    if (data.length === 0) return { offset, data };
    const last = this.chunks.length > this.head ? this.chunks[this.chunks.length - 1] : undefined;
    if (data.length < PACK_BLOCK_BYTES && last && this.block && last.data.length + data.length <= this.block.length) {
      // Extend the packed tail: same chunk, longer view over the same block.
      this.block.set(data, last.data.length);
      last.data = this.block.subarray(0, last.data.length + data.length);
    } else if (data.length < PACK_BLOCK_BYTES) {
      this.block = new Uint8Array(PACK_BLOCK_BYTES);
      this.block.set(data, 0);
      this.chunks.push({ offset, data: this.block.subarray(0, data.length) });
    } else {
      this.block = null;
      this.chunks.push({ offset, data });
    }
    this.total += data.length;
    this.retained += data.length;
    this.trim();
    return { offset, data };
  }

  /** Drops whole chunks from the front until within bounds (the newest chunk always stays). */
  private trim(): void {
    while (this.retained > this.maxBytes && this.chunks.length - this.head > 1) {
      this.retained -= this.chunks[this.head].data.length;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * What a client that has seen `offset` bytes is missing. The first chunk is
   * sliced when `offset` falls inside it, so nothing is sent twice.
   * Throws RangeError for an offset beyond `end` (the caller decides what a
   * client from another stream gets).
   */
  since(offset: number): SinceResult {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.total) {
      throw new RangeError(`offset ${offset} is outside the stream (0..${this.total})`);
    }
    const start = this.start;
    const from = Math.max(offset, start);
    const lost = from - offset;
    if (from === this.total) return { from, lost, chunks: [] };
    // Binary search for the chunk holding `from`.
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid].offset <= from) lo = mid;
      else hi = mid - 1;
    }
    const out: Chunk[] = [];
    const first = this.chunks[lo];
    out.push(from === first.offset ? { offset: first.offset, data: first.data } : { offset: from, data: first.data.subarray(from - first.offset) });
    for (let i = lo + 1; i < this.chunks.length; i++) out.push({ offset: this.chunks[i].offset, data: this.chunks[i].data });
    return { from, lost, chunks: out };
  }
}
