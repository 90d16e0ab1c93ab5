/**
 * The client's place in a terminal's output stream (byte offsets, protocol.ts):
 * what it handed to the screen, what the screen has rendered and what it acked.
 * A reconnect resumes from its offset (HELLO); output it already has is skipped,
 * a gap is said out loud, and a replay with `reset` starts the screen over.
 */
import type { Status } from './protocol';

/** What the reader writes to (client.ts's TerminalSink: xterm's write and reset). */
export interface StreamScreen {
  write(data: Uint8Array, rendered: () => void): void;
  reset(): void;
  notice?(text: string): void;
}

/** Shown under the screen a client kept when its terminal reconnected through another server. */
export const MOVED_NOTE = '[labforge: reconnected through another server; a new shell started]';

export class StreamReader {
  private stream: string | undefined;
  /** Stream offset of everything handed to the sink. */
  private handed = 0;
  /** Stream offset the sink has confirmed rendered. */
  private rendered = 0;
  private lastAck = 0;
  /** Bumped by every reset: a render callback from before it is stale. */
  private generation = 0;

  constructor(
    private readonly sink: StreamScreen,
    private readonly ackEvery: number,
  ) {}

  /** Bytes of the current stream handed to the screen. */
  get offset(): number {
    return this.handed;
  }

  /** Where a HELLO resumes: this stream's offset, or 0 before the first replay. */
  resumeAt(): { offset: number; stream?: string } {
    return { offset: this.stream ? this.handed : 0, stream: this.stream };
  }

  /**
   * REPLAY precedes the bytes the server resends; `reset`: the screen starts over from `from`;
   * `moved`: the screen stays and the new stream's bytes follow it (another server, a new shell).
   */
  replay(s: Extract<Status, { type: 'replay' }>): void {
    if (s.reset) {
      this.generation++;
      this.sink.reset();
      this.handed = this.rendered = this.lastAck = s.from;
      if (s.lost > 0) this.sink.notice?.(`[labforge: ${formatBytes(s.lost)} of earlier output not kept]`);
    } else if (s.moved) {
      this.generation++;
      this.handed = this.rendered = this.lastAck = s.from;
      this.sink.notice?.(MOVED_NOTE);
    }
    this.stream = s.stream;
  }

  /** OUTPUT at `at`: the new bytes go to the sink; `ack` sends an ACK once enough is rendered (false: it could not). */
  output(at: number, data: Uint8Array, ack: (offset: number) => boolean): void {
    let bytes = data;
    if (at + bytes.length <= this.handed) return; // all seen already
    if (at < this.handed)
      bytes = bytes.subarray(this.handed - at); // overlap: keep the new tail
    else if (at > this.handed) {
      // Should not happen (the server announces gaps); say so rather than pretend.
      this.sink.notice?.(`[labforge: ${at - this.handed} bytes of output missing]`);
      this.rendered = this.lastAck = at;
    }
    const end = at + data.length;
    this.handed = end;
    const gen = this.generation;
    this.sink.write(bytes, () => {
      if (gen !== this.generation || end <= this.rendered) return;
      this.rendered = end;
      // Ack every ackEvery bytes, and whenever the screen has caught up (so the
      // server never waits on a tail smaller than ackEvery, whatever the tuning).
      const due = this.rendered - this.lastAck >= this.ackEvery || (this.rendered === this.handed && this.rendered > this.lastAck);
      if (due && ack(this.rendered)) this.lastAck = this.rendered;
    });
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
