/**
 * One terminal: a pty opened through the environment driver (the shell runs in
 * the host, never here), its output stream, and the sockets watching it.
 *
 *   pty data -> batch -> replay buffer (offset-addressed) -> every ready socket
 *
 * - Batching adapts (batcher.ts): an echo leaves at once, a flood is coalesced.
 * - Flow control: the owner acks what it rendered; the pty is paused while the
 *   owner has too much unacked output (the program in the host then blocks on
 *   write, so nothing piles up here). Viewers never pause: one that lags too
 *   far is disconnected and resumes on reconnect.
 * - Reconnect: HELLO carries the stream id and offset the client rendered; it
 *   gets exactly the missing bytes (or a reset + what is kept), and input is
 *   accepted only after that replay.
 * - Grace: when the last socket leaves, the pty lives on for `graceMs`; then
 *   every process it started ends (teardown.ts).
 * - Screens on disk (screens.ts): the replay is saved throttled, so a restarted
 *   server shows the learner their screen (then a note, then a new shell's
 *   output) instead of a blank terminal.
 */
import { randomBytes } from 'node:crypto';
import type { IPty } from 'node-pty';
import type { WebSocket } from 'ws';
import type { Environment, EnvironmentDriver } from '../../environments/driver';
import type { Logger } from '../../base/log';
import {
  CLOSE,
  FLOW,
  OUTPUT_HEADER_BYTES,
  decodeClientFrame,
  encodeOutput,
  encodePong,
  encodeStatus,
  validDim,
  writeOutputHeader,
  type Role,
  type Status,
} from '../common/protocol';
import { BATCH, OutputBatcher, type BatchTuning } from './batcher';
import { FramePool, FrameRecycler } from './frames';
import { DEFAULT_REPLAY_BYTES, ReplayBuffer } from './replay';
import { restoredStream, type SavedScreen, type ScreenKeeper, type ScreenStore } from './screens';
import { endTerminalProcesses } from './teardown';

export { BATCH, type BatchTuning } from './batcher';
export type FlowTuning = { -readonly [K in keyof typeof FLOW]: number };

export interface TerminalTarget {
  driver: EnvironmentDriver;
  env: Environment;
  host: string;
}

export interface TerminalSessionOptions extends TerminalTarget {
  key: string;
  sessionId: string;
  tab: string;
  graceMs: number;
  log: Logger;
  replayBytes?: number;
  batch?: Partial<BatchTuning>;
  flow?: Partial<FlowTuning>;
  helloTimeoutMs?: number;
  /** Called once, synchronously, when the session ends (the gateway forgets it). */
  onEnd?: (session: TerminalSession) => void;
  /** The owner typed: called at most once per ACTIVITY_EVERY_MS (activity tracking, not per keystroke). */
  onInput?: () => void;
  /** Where this terminal's screen is saved, so it outlives the server process. */
  screens?: ScreenStore;
  /** The screen a previous server process saved for this tab: shown first, followed by RESTART_NOTE. */
  restored?: SavedScreen;
}

/** Throttle for onInput: idle timeouts work in minutes, a DB write per keystroke would be waste. */
export const ACTIVITY_EVERY_MS = 15_000;

export interface TerminalStats {
  key: string;
  sessionId: string;
  tab: string;
  stream: string;
  terminalId: string;
  started: boolean;
  exited: boolean;
  ended: boolean;
  paused: boolean;
  sockets: number;
  hasOwner: boolean;
  /** Total output bytes produced so far. */
  offset: number;
  retainedBytes: number;
  pendingBytes: number;
  ownerUnacked: number;
  ignoredInputFrames: number;
  cols: number;
  rows: number;
  /** When the grace period ends (ms epoch), if no socket is attached. */
  graceUntil?: number;
}

/** One attached socket. */
class Peer {
  ready = false;
  sent = 0; // stream offset sent up to
  acked = 0; // stream offset the client says it rendered
  helloTimer?: NodeJS.Timeout;
  constructor(
    readonly ws: WebSocket,
    readonly mayOwn: boolean,
    readonly seq: number,
  ) {}
  get unacked(): number {
    return this.sent - this.acked;
  }
}

let peerSeq = 0;

export class TerminalSession {
  readonly key: string;
  readonly sessionId: string;
  readonly tab: string;
  readonly stream = randomBytes(9).toString('base64url');
  readonly terminalId = `lf-${randomBytes(8).toString('hex')}`;

  private readonly opts: TerminalSessionOptions;
  private readonly log: Logger;
  private readonly batch: BatchTuning;
  private readonly batcher: OutputBatcher;
  private readonly flow: FlowTuning;
  private readonly replay: ReplayBuffer;
  private readonly frames: FrameRecycler;
  private readonly peers = new Set<Peer>();
  private owner: Peer | undefined;
  private pty: IPty | undefined;
  private cols = 80;
  private rows = 24;
  private paused = false;
  private exited = false;
  private ended: Promise<void> | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private graceUntil: number | undefined;
  private ignoredInput = 0;
  private lastActivityAt = -Infinity;
  /** Ack offset of an owner whose socket dropped, kept for FLOW.reconnectHoldMs (see updateFlow). */
  private held: { acked: number; timer: NodeJS.Timeout } | undefined;
  private exitWaiters: Array<() => void> = [];
  private readonly keeper: ScreenKeeper | undefined;

  constructor(opts: TerminalSessionOptions) {
    this.opts = opts;
    this.key = opts.key;
    this.sessionId = opts.sessionId;
    this.tab = opts.tab;
    this.log = opts.log.child({ terminal: this.terminalId, sessionId: opts.sessionId, tab: opts.tab });
    this.batch = { ...BATCH, ...opts.batch };
    this.flow = { ...FLOW, ...opts.flow };
    this.replay = new ReplayBuffer(opts.replayBytes ?? DEFAULT_REPLAY_BYTES);
    // Pieces come with room for the OUTPUT header (one copy from pty reads to the frame sent), in recycled buffers.
    const pool = new FramePool(OUTPUT_HEADER_BYTES + this.batch.maxBytes);
    this.frames = new FrameRecycler(pool, () => this.replay.start);
    this.batcher = new OutputBatcher(
      this.batch,
      (frame) => this.deliver(frame),
      OUTPUT_HEADER_BYTES,
      (n) => pool.take(n),
    );
    // The old screen and the note are the start of this terminal's stream: every client gets them
    // through the usual replay (a reset, as the stream id is new), before the new shell's output.
    if (opts.restored) this.restore(opts.restored);
    this.keeper = opts.screens?.keeper(this.sessionId, this.tab, this.terminalId, () => this.replay.since(this.replay.start).chunks.map((c) => c.data));
  }

  /**
   * A killed server's shells go on running in the host, unreachable: end them (so the note's
   * "your previous shell ended" is true and nothing piles up), and show the screen they drew.
   */
  private restore(saved: SavedScreen): void {
    const { driver, env, host } = this.opts;
    driver.closeTerminal(env, host, saved.terminalId).catch((err: Error) => this.log.warn({ err: err.message }, 'could not end the previous shell'));
    for (const piece of restoredStream(saved)) this.replay.append(piece);
    this.log.info({ bytes: saved.bytes.length, previous: saved.terminalId }, 'terminal restored from its saved screen');
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /** Attaches a socket. It receives nothing until it sends HELLO. */
  attach(ws: WebSocket, role: Role): void {
    if (this.ended) {
      sendStatus(ws, { type: 'closed', reason: 'This terminal has just ended; reconnect to start a new shell.' });
      ws.close(CLOSE.goingAway, 'terminal ended');
      return;
    }
    this.cancelGrace();
    const peer = new Peer(ws, role === 'owner', ++peerSeq);
    this.peers.add(peer);
    peer.helloTimer = setTimeout(() => ws.close(CLOSE.helloTimeout, 'no hello'), this.opts.helloTimeoutMs ?? 10_000);
    ws.on('message', (data, isBinary) => this.onMessage(peer, data as Buffer | Buffer[], isBinary));
    ws.on('close', () => this.detach(peer));
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    this.log.debug({ role, sockets: this.peers.size }, 'socket attached');
  }

  stats(): TerminalStats {
    return {
      key: this.key,
      sessionId: this.sessionId,
      tab: this.tab,
      stream: this.stream,
      terminalId: this.terminalId,
      started: this.pty !== undefined,
      exited: this.exited,
      ended: this.isEnded,
      paused: this.paused,
      sockets: this.peers.size,
      hasOwner: this.owner !== undefined,
      offset: this.replay.end + this.batcher.pendingBytes,
      retainedBytes: this.replay.bytes,
      pendingBytes: this.batcher.pendingBytes,
      ownerUnacked: this.owner?.unacked ?? 0,
      ignoredInputFrames: this.ignoredInput,
      cols: this.cols,
      rows: this.rows,
      graceUntil: this.graceUntil,
    };
  }

  /** The local pid of the pty's process (the driver's client, e.g. `docker exec`). */
  get pid(): number | undefined {
    return this.pty?.pid;
  }

  // ---- socket messages ------------------------------------------------------

  private onMessage(peer: Peer, data: Buffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) return this.protocolError(peer, 'text frames are not part of the terminal protocol');
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data;
    const decoded = decodeClientFrame(bytes);
    if (!decoded.ok) return this.protocolError(peer, decoded.error);
    const msg = decoded.msg;
    switch (msg.type) {
      case 'hello':
        return this.onHello(peer, msg.hello);
      case 'input':
        if (peer === this.owner && peer.ready && this.pty && !this.exited) {
          this.pty.write(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
          this.activity();
        } else this.ignoredInput++;
        return;
      case 'resize':
        if (peer === this.owner) this.resize(msg.cols, msg.rows);
        return;
      case 'ack':
        // Cumulative and monotonic; an ack past what was sent is clamped, not trusted.
        if (msg.offset > peer.acked) peer.acked = Math.min(msg.offset, peer.sent);
        if (peer === this.owner) this.updateFlow();
        return;
      case 'ping':
        send(peer.ws, encodePong(msg.nonce));
        return;
    }
  }

  private activity(): void {
    const now = Date.now();
    if (!this.opts.onInput || now - this.lastActivityAt < ACTIVITY_EVERY_MS) return;
    this.lastActivityAt = now;
    try {
      this.opts.onInput();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'onInput hook failed');
    }
  }

  private protocolError(peer: Peer, error: string): void {
    this.log.warn({ error }, 'protocol error; closing socket');
    sendStatus(peer.ws, { type: 'error', message: `Terminal protocol error: ${error}. Reload the page.`, fatal: true });
    peer.ws.close(CLOSE.protocolError, 'protocol error');
  }

  private onHello(peer: Peer, hello: { offset: number; stream?: string; cols: number; rows: number }): void {
    if (peer.ready) return; // a second HELLO changes nothing
    clearTimeout(peer.helloTimer);
    if (!this.pty && !this.start(hello.cols, hello.rows)) return;
    this.batcher.flush(); // the replay must include everything produced so far

    // An offset from another stream (restarted shell, server restart) or from
    // the future means the client's screen is not ours: start it over.
    const sameStream = hello.stream === this.stream && hello.offset <= this.replay.end;
    const offset = sameStream ? hello.offset : 0;
    const r = this.replay.since(offset);
    const reset = !sameStream || r.lost > 0;
    sendStatus(peer.ws, { type: 'replay', stream: this.stream, from: r.from, to: this.replay.end, reset, lost: sameStream ? r.lost : r.from });
    for (const c of r.chunks) send(peer.ws, encodeOutput(c.offset, c.data));
    peer.sent = this.replay.end;
    peer.acked = r.from;
    peer.ready = true;

    if (peer.mayOwn) this.setOwner(peer);
    const role: Role = peer === this.owner ? 'owner' : 'viewer';
    if (role === 'owner') this.resize(hello.cols, hello.rows); // the keyboard's window decides the size
    sendStatus(peer.ws, { type: 'ready', stream: this.stream, offset: this.replay.end, role, cols: this.cols, rows: this.rows });
    this.updateFlow();
    this.log.debug({ role, resumeFrom: hello.offset, replayed: this.replay.end - r.from, lost: r.lost, sameStream }, 'socket ready');
  }

  /** The newest owner-capable socket types; the one it replaces becomes a viewer. */
  private setOwner(peer: Peer): void {
    const previous = this.owner;
    if (previous === peer) return;
    this.owner = peer;
    this.release();
    if (previous && this.peers.has(previous)) {
      sendStatus(previous.ws, { type: 'role', role: 'viewer', reason: 'This terminal is now controlled from another window; this one is read-only.' });
      this.log.info('terminal ownership moved to a newer window');
    }
    this.updateFlow();
  }

  private detach(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    clearTimeout(peer.helloTimer);
    if (peer === this.owner) {
      // Hand the keyboard back to the most recent remaining owner-capable window.
      let next: Peer | undefined;
      for (const p of this.peers) if (p.mayOwn && p.ready && (!next || p.seq > next.seq)) next = p;
      this.owner = next;
      if (next) sendStatus(next.ws, { type: 'role', role: 'owner', reason: 'The other window closed; you can type here again.' });
      else if (peer.ready) this.hold(peer.acked);
      this.updateFlow();
    }
    this.log.debug({ sockets: this.peers.size }, 'socket detached');
    if (this.peers.size === 0 && !this.ended) this.startGrace();
  }

  // ---- the pty --------------------------------------------------------------

  private start(cols: number, rows: number): boolean {
    this.cols = cols;
    this.rows = rows;
    const { driver, env, host } = this.opts;
    try {
      this.pty = driver.openTerminal(env, host, { cols, rows, terminalId: this.terminalId });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error({ err: message, host }, 'could not open terminal');
      for (const p of this.peers) {
        sendStatus(p.ws, { type: 'error', message: clip(`Could not start a shell on host "${host}": ${message}`, 2000), fatal: true });
        p.ws.close(CLOSE.startFailed, 'start failed');
      }
      void this.end('start failed');
      return false;
    }
    const pty = this.pty;
    // Drivers open ptys with `encoding: null` (Buffers, bytes passed through as they are); a string-mode pty still works.
    pty.onData((d: string | Buffer) => this.onData(typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
    pty.onExit(({ exitCode, signal }) => this.onExit(exitCode, signal));
    this.log.info({ host, pid: pty.pid, cols, rows }, 'terminal started');
    return true;
  }

  private onData(buf: Buffer): void {
    if (!this.ended) this.batcher.push(buf);
  }

  /** One batched piece (header room + data): into the replay buffer and out to every ready socket (one frame for all). */
  private deliver(frame: Buffer): void {
    const piece = frame.subarray(OUTPUT_HEADER_BYTES);
    const chunk = this.replay.append(piece);
    writeOutputHeader(frame, chunk.offset);
    const held = this.frames.track(frame, chunk.offset + piece.length);
    const written = held && (() => this.frames.written(held));
    for (const p of this.peers) {
      if (!p.ready) continue; // it gets this from the replay when its HELLO comes
      if (held) held.writes++;
      if (!send(p.ws, frame, written) && held) held.writes--;
      p.sent = chunk.offset + piece.length;
      if (p !== this.owner && p.unacked > this.flow.viewerMaxUnackedBytes) this.dropSlowViewer(p);
    }
    this.frames.release();
    this.updateFlow();
    this.keeper?.changed();
  }

  private dropSlowViewer(p: Peer): void {
    this.log.info({ unacked: p.unacked }, 'viewer too far behind; disconnecting it');
    p.ready = false; // no more output to it
    sendStatus(p.ws, { type: 'error', message: 'This read-only view fell behind the output and will reconnect.', fatal: false });
    p.ws.close(CLOSE.tooSlow, 'too slow');
  }

  private hold(acked: number): void {
    this.release();
    const timer = setTimeout(() => {
      this.held = undefined;
      this.updateFlow();
    }, this.flow.reconnectHoldMs);
    timer.unref();
    this.held = { acked, timer };
  }

  private release(): void {
    if (this.held) clearTimeout(this.held.timer);
    this.held = undefined;
  }

  /**
   * Pause the pty while the owner lags. With no owner: right after one dropped,
   * let output fill the replay buffer up to what it last acked (no loss on
   * reconnect); otherwise keep draining (viewers never hold anything up).
   */
  private updateFlow(): void {
    if (!this.pty || this.exited) return;
    let pause = false;
    let resume = true;
    if (this.owner?.ready) {
      const unacked = this.owner.unacked;
      pause = unacked > this.flow.pauseAboveBytes;
      resume = unacked < this.flow.resumeBelowBytes;
    } else if (this.held) {
      const room = Math.max(this.replay.maxBytes - 2 * this.batch.maxBytes, this.flow.pauseAboveBytes);
      pause = this.replay.end + this.batcher.pendingBytes - this.held.acked > room;
      resume = !pause;
    }
    if (!this.paused && pause) {
      this.paused = true;
      this.pty.pause();
    } else if (this.paused && resume && !pause) {
      this.paused = false;
      this.pty.resume();
    }
  }

  private resize(cols: number, rows: number): void {
    if (!validDim(cols) || !validDim(rows)) return;
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    if (!this.pty || this.exited) return;
    try {
      this.pty.resize(cols, rows);
    } catch (err) {
      // node-pty throws (EBADF) when the pty closed under us; the exit handler follows.
      this.log.debug({ err: (err as Error).message }, 'resize failed');
    }
  }

  private onExit(code: number, signal?: number): void {
    this.exited = true;
    this.paused = false;
    this.batcher.flush();
    for (const w of this.exitWaiters.splice(0)) w();
    if (this.ended) return;
    this.log.info({ code, signal }, 'shell exited');
    const status: Status = signal ? { type: 'exited', code, signal } : { type: 'exited', code };
    for (const p of this.peers) {
      if (p.ready) sendStatus(p.ws, status);
      p.ws.close(CLOSE.exited, 'shell exited');
    }
    void this.end('exited');
  }

  // ---- grace and the end ----------------------------------------------------

  private startGrace(): void {
    this.cancelGrace();
    this.graceUntil = Date.now() + this.opts.graceMs;
    this.graceTimer = setTimeout(() => void this.end('grace period over'), this.opts.graceMs);
    this.graceTimer.unref();
  }

  private cancelGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.graceUntil = undefined;
  }

  /**
   * Ends the terminal: tells attached sockets why, ends every process it
   * started inside the host (driver.closeTerminal), then the local pty client
   * and its process group. Idempotent; resolves when done.
   */
  end(reason: string, closeCode: number = CLOSE.sessionClosed): Promise<void> {
    if (this.ended) return this.ended;
    this.cancelGrace();
    this.release();
    this.batcher.dispose();
    this.frames.clear();
    for (const p of this.peers) {
      clearTimeout(p.helloTimer);
      if (p.ws.readyState === p.ws.OPEN) {
        sendStatus(p.ws, { type: 'closed', reason: clip(reason, 500) });
        p.ws.close(closeCode, 'terminal closed');
      }
    }
    this.log.info({ reason }, 'terminal ending');
    // goingAway is the server shutting down: the screen is saved for the next server process.
    // Any other end (shell exited, grace over, session ended) is for good: its screen goes too.
    const screen = closeCode === CLOSE.goingAway ? this.keeper?.flush() : this.keeper?.discard();
    this.ended = Promise.all([this.teardown(), screen]).then(() => undefined);
    this.opts.onEnd?.(this);
    return this.ended;
  }

  private async teardown(): Promise<void> {
    const pty = this.pty;
    if (!pty) return;
    const { driver, env, host } = this.opts;
    await endTerminalProcesses(pty, {
      driver,
      env,
      host,
      terminalId: this.terminalId,
      alreadyExited: this.exited,
      exited: new Promise<void>((resolve) => this.exitWaiters.push(resolve)),
      onWarning: (message) => this.log.warn(message),
    });
  }
}

/** Status texts have length limits (protocol.ts): a long error must not become a protocol error. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Sends when open; `written` runs once the socket is done with `bytes` (written or failed). */
function send(ws: WebSocket, bytes: Uint8Array, written?: () => void): boolean {
  if (ws.readyState !== ws.OPEN) return false;
  ws.send(bytes, written);
  return true;
}

function sendStatus(ws: WebSocket, status: Status): void {
  send(ws, encodeStatus(status));
}
