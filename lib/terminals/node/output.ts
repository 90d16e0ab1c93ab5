/**
 * A terminal's output stream, from pty reads to frames on the wire:
 *
 *   pty data -> batch -> replay buffer (offset-addressed) -> one frame for every ready socket
 *
 * Batching adapts (batcher.ts): an echo leaves at once, a flood is coalesced.
 * Each batch comes with room for the OUTPUT header, so the frame sent is the
 * piece the replay buffer keeps (one copy from pty reads to the wire), and big
 * frames are recycled once no socket and no replay chunk holds them (frames.ts).
 */
import type { WebSocket } from 'ws';
import { OUTPUT_HEADER_BYTES, writeOutputHeader } from '../common/protocol';
import { OutputBatcher, type BatchTuning } from './batcher';
import { FramePool, FrameRecycler } from './frames';
import { ReplayBuffer, type SinceResult } from './replay';
import { send } from './peers';

/** Sends the frame being published to one socket; false when the socket is not open. */
export type SendFrame = (ws: WebSocket) => boolean;

export interface Publisher {
  /** A frame with the stream up to `end`: hand it to every socket that should have it, through `sendTo`. */
  publish(end: number, sendTo: SendFrame): void;
  /** After each frame was published and its buffers settled. */
  published(): void;
}

export class OutputStream {
  private readonly replay: ReplayBuffer;
  private readonly batcher: OutputBatcher;
  private readonly frames: FrameRecycler;

  constructor(
    batch: BatchTuning,
    replayBytes: number,
    private readonly out: Publisher,
  ) {
    this.replay = new ReplayBuffer(replayBytes);
    const pool = new FramePool(OUTPUT_HEADER_BYTES + batch.maxBytes);
    this.frames = new FrameRecycler(pool, () => this.replay.start);
    this.batcher = new OutputBatcher(
      batch,
      (frame) => this.deliver(frame),
      OUTPUT_HEADER_BYTES,
      (n) => pool.take(n),
    );
  }

  /** Offset just past the last byte published. */
  get end(): number {
    return this.replay.end;
  }

  /** Everything the pty produced so far, published or still batched. */
  get produced(): number {
    return this.replay.end + this.batcher.pendingBytes;
  }

  push(data: Buffer): void {
    this.batcher.push(data);
  }

  /** Publishes what is batched now (a replay must include everything produced so far). */
  flush(): void {
    this.batcher.flush();
  }

  /** Output that is part of the stream without being published (a restored screen, before any socket). */
  append(piece: Uint8Array): void {
    this.replay.append(piece);
  }

  since(offset: number): SinceResult {
    return this.replay.since(offset);
  }

  /** Everything still kept, oldest first (the screen saved to disk). */
  kept(): Uint8Array[] {
    return this.replay.since(this.replay.start).chunks.map((c) => c.data);
  }

  /** The terminal ended: drops what is batched and forgets the frames in flight (the GC takes them). */
  dispose(): void {
    this.batcher.dispose();
    this.frames.clear();
  }

  /** One batched piece (header room + data): into the replay buffer and out as one frame for every socket. */
  private deliver(frame: Buffer): void {
    const piece = frame.subarray(OUTPUT_HEADER_BYTES);
    const chunk = this.replay.append(piece);
    writeOutputHeader(frame, chunk.offset);
    const end = chunk.offset + piece.length;
    const held = this.frames.track(frame, end);
    const written = held && (() => this.frames.written(held));
    this.out.publish(end, (ws) => {
      if (held) held.writes++;
      const sent = send(ws, frame, written);
      if (!sent && held) held.writes--;
      return sent;
    });
    this.frames.release();
    this.out.published();
  }
}
