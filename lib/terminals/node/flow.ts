/**
 * Flow control for one terminal: the owner acks what it rendered, and the shell's
 * output is paused while the owner has too much unacked output (TerminalProcess.pause:
 * the program in the host then blocks on write, so nothing piles up here). The window is
 * sized to the owner's measured render speed (RenderRate): a browser that renders 1 MB/s
 * holds ~renderTargetMs of output, never a fixed 512 KB, so what it still has to draw after
 * Ctrl-C is short. Viewers never pause: one that lags too far is disconnected and resumes on
 * reconnect. Thresholds: FLOW in protocol.ts.
 */
import type { TerminalProcess } from '../../environments/driver';
import { CLOSE, FLOW } from '../common/protocol';
import type { Logger } from '../../base/log';
import { sendStatus, type Peer } from './peers';

/** How long after a resume the output still counts as held back (FlowControl.backlogged). */
const BACKLOG_MS = 500;

export type FlowTuning = { -readonly [K in keyof typeof FLOW]: number };

export interface FlowState {
  owner: Peer | undefined;
  /** Total output bytes the pty produced so far (sent or not). */
  produced: number;
  /** Output is being discarded (interrupt.ts): read it as fast as it comes, whoever lags. */
  draining?: boolean;
}

/**
 * How fast the owner's screen renders, from its acks while it had a backlog (only then is
 * rendering what paces the acks). Smoothed; undefined until measured.
 */
export class RenderRate {
  bytesPerSecond: number | undefined;
  private last: { at: number; acked: number } | undefined;

  constructor(
    private readonly minSpanMs = 20,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** An ack moved the owner to `acked` while `behind` bytes were still unacked before it. */
  sample(acked: number, behind: boolean): void {
    const at = this.now();
    // Two acks in a row while behind: the screen rendered all along between them.
    if (!behind || !this.last || acked < this.last.acked) {
      this.last = behind ? { at, acked } : undefined;
      return;
    }
    const span = at - this.last.at;
    if (span < this.minSpanMs) return;
    const rate = ((acked - this.last.acked) * 1000) / span;
    this.bytesPerSecond = this.bytesPerSecond === undefined ? rate : 0.7 * this.bytesPerSecond + 0.3 * rate;
    this.last = { at, acked };
  }

  /** A new owner: its screen is another one. */
  reset(): void {
    this.bytesPerSecond = undefined;
    this.last = undefined;
  }
}

/**
 * The owner's round trip: the shortest time from sending output to its ack, over the last
 * `keep` acks (an echo's ack, sent as soon as the screen caught up, is the link alone). Without
 * it a far learner's window would shrink to what one round trip allows, not what they render.
 */
export class AckDelay {
  private readonly inFlight: Array<{ end: number; at: number }> = [];
  private readonly samples: number[] = [];

  constructor(
    private readonly keep = 32,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Output up to stream offset `end` went to the owner. */
  sent(end: number): void {
    this.inFlight.push({ end, at: this.now() });
    if (this.inFlight.length > 256) this.inFlight.shift();
  }

  /** The owner acked up to `offset`: the newest send it covers gives one sample. */
  acked(offset: number): void {
    let covered: { end: number; at: number } | undefined;
    while (this.inFlight.length && this.inFlight[0].end <= offset) covered = this.inFlight.shift();
    if (!covered) return;
    this.samples.push(this.now() - covered.at);
    if (this.samples.length > this.keep) this.samples.shift();
  }

  get ms(): number {
    return this.samples.length ? Math.min(...this.samples) : 0;
  }

  reset(): void {
    this.inFlight.length = 0;
    this.samples.length = 0;
  }
}

export class FlowControl {
  private pty: Pick<TerminalProcess, 'pause' | 'resume'> | undefined;
  private paused = false;
  private resumedAt = -Infinity;
  /** Ack offset of an owner whose socket dropped, kept for reconnectHoldMs (see update). */
  private held: { acked: number; timer: NodeJS.Timeout } | undefined;
  /** Output allowed past a dropped owner's ack: what the replay buffer keeps, less two batches of slack. */
  private readonly holdRoom: number;
  readonly rate: RenderRate;
  readonly delay: AckDelay;

  constructor(
    readonly tuning: FlowTuning,
    sizes: { replayBytes: number; batchBytes: number },
    private readonly state: () => FlowState,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rate = new RenderRate(20, now);
    this.delay = new AckDelay(32, now);
    this.holdRoom = Math.max(sizes.replayBytes - 2 * sizes.batchBytes, tuning.pauseAboveBytes);
  }

  /** The shell runs: from now on its output is paused and resumed. */
  start(pty: Pick<TerminalProcess, 'pause' | 'resume'>): void {
    this.pty = pty;
  }

  /** Output up to `end` went to the owner. */
  sent(end: number): void {
    this.delay.sent(end);
  }

  /** The owner acked up to `acked`, having had `unacked` bytes outstanding before it. */
  acked(acked: number, unacked: number): void {
    this.delay.acked(acked);
    this.rate.sample(acked, unacked > this.tuning.ackEveryBytes);
  }

  /** A new owner: its screen and its link are other ones. */
  newOwner(): void {
    this.rate.reset();
    this.delay.reset();
  }

  /**
   * Unacked output above which the owner's screen pauses the shell: renderTargetMs of its
   * rendering plus what its round trip keeps in flight (so a far learner is not held to one
   * window per round trip), within bounds.
   */
  get window(): number {
    const bps = this.rate.bytesPerSecond;
    const max = this.tuning.pauseAboveBytes;
    if (bps === undefined) return max;
    const bytes = (bps * (this.tuning.renderTargetMs + this.delay.ms)) / 1000;
    return Math.round(Math.min(max, Math.max(this.tuning.minWindowBytes, bytes)));
  }

  /**
   * The shell's output was held back for the owner just now (paused, or resumed less than
   * BACKLOG_MS ago): the program is blocked on its writes, with output still queued below us.
   */
  get backlogged(): boolean {
    return this.paused || this.now() - this.resumedAt < BACKLOG_MS;
  }

  /** The pty exited: nothing to pause any more. */
  stop(): void {
    this.pty = undefined;
    this.paused = false;
  }

  /** The owner's socket dropped after acking `acked`: keep its place for a while (see update). */
  hold(acked: number): void {
    this.release();
    const timer = setTimeout(() => {
      this.held = undefined;
      this.update();
    }, this.tuning.reconnectHoldMs);
    timer.unref();
    this.held = { acked, timer };
  }

  /** Another owner took over, or the terminal ends: the dropped owner's place is not kept. */
  release(): void {
    if (this.held) clearTimeout(this.held.timer);
    this.held = undefined;
  }

  /**
   * Pause the pty while the owner lags. With no owner: right after one dropped,
   * let output fill the replay buffer up to what it last acked (no loss on
   * reconnect); otherwise keep draining (viewers never hold anything up).
   */
  update(): void {
    if (!this.pty) return;
    const { owner, produced, draining } = this.state();
    let pause = false;
    let resume = true;
    if (draining) {
      // nothing reaches any screen: read on
    } else if (owner?.ready) {
      const unacked = owner.unacked;
      const window = this.window;
      pause = unacked > window;
      resume = unacked < window * (this.tuning.resumeBelowBytes / this.tuning.pauseAboveBytes);
    } else if (this.held) {
      pause = produced - this.held.acked > this.holdRoom;
      resume = !pause;
    }
    if (!this.paused && pause) {
      this.paused = true;
      this.pty.pause();
    } else if (this.paused && resume && !pause) {
      this.paused = false;
      this.resumedAt = this.now();
      this.pty.resume();
    }
  }

  /** A viewer past viewerMaxUnackedBytes is disconnected (it reconnects and resumes) rather than slowing anyone. */
  dropIfTooSlow(p: Peer, owner: Peer | undefined): void {
    if (p === owner || p.unacked <= this.tuning.viewerMaxUnackedBytes) return;
    this.log.info({ unacked: p.unacked }, 'viewer too far behind; disconnecting it');
    p.ready = false; // no more output to it
    sendStatus(p.ws, { type: 'error', message: 'This read-only view fell behind the output and will reconnect.', fatal: false });
    p.ws.close(CLOSE.tooSlow, 'too slow');
  }
}
