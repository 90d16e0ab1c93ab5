/**
 * One terminal of a lab session's tab: its shell process (pty.ts), its output stream
 * (output.ts) and the sockets watching it (peers.ts), paced by flow control
 * (flow.ts). This module speaks the protocol to each socket and decides when
 * the terminal ends.
 *
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
import type { WebSocket } from 'ws';
import type { Logger } from '../../base/log';
import { CLOSE, FLOW, decodeClientFrame, encodeOutput, encodePong, type HelloPayload, type Role, type Status } from '../common/protocol';
import { BATCH, type BatchTuning } from './batcher';
import { FlowControl, type FlowTuning } from './flow';
import { INTERRUPT, InterruptSkip, type InterruptTuning } from './interrupt';
import { OutputStream, type SendFrame } from './output';
import { Peers, clip, send, sendStatus, type Peer } from './peers';
import { TerminalPty, type TerminalTarget } from './pty';
import { DEFAULT_REPLAY_BYTES } from './replay';
import { restoredStream, type SavedScreen, type ScreenKeeper, type ScreenStore } from './screens';

/** Tells this server process's streams from those of another (a replica, or this server before a restart). */
const PROCESS_TAG = randomBytes(3).toString('hex');

export interface TerminalOptions extends TerminalTarget {
  key: string;
  sessionId: string;
  tab: string;
  /** How long a pty outlives its last socket. */
  graceMs: number;
  log: Logger;
  replayBytes?: number;
  batch?: Partial<BatchTuning>;
  flow?: Partial<FlowTuning>;
  interrupt?: Partial<InterruptTuning>;
  helloTimeoutMs?: number;
  /** Called once, synchronously, when the terminal ends (the gateway forgets it). */
  onEnd?: (terminal: Terminal) => void;
  /** The owner typed: called at most once per ACTIVITY_EVERY_MS (activity tracking, not per keystroke). */
  onInput?: () => void;
  /** Where this terminal's screen is saved, so it outlives the server process. */
  screens?: ScreenStore;
  /** The screen a previous server process saved for this tab: shown first, followed by RESTART_NOTE. */
  restored?: SavedScreen;
  /** Starts its stream id; default: this process's tag (tests give two gateways in one process their own). */
  streamTag?: string;
}

/** Throttle for onInput: idle timeouts work in minutes, a DB write per keystroke would be waste. */
export const ACTIVITY_EVERY_MS = 15_000;

export class Terminal {
  readonly key: string;
  readonly sessionId: string;
  readonly tab: string;
  /** Starts with this process's tag: a HELLO naming another process's stream comes from a client that moved here. */
  readonly stream: string;
  /** The process's part of every stream id it makes (`<tag>.`). */
  private readonly streamPrefix: string;
  readonly terminalId = `lf-${randomBytes(8).toString('hex')}`;

  private readonly opts: TerminalOptions;
  private readonly log: Logger;
  private readonly output: OutputStream;
  private readonly flow: FlowControl;
  private readonly interrupts: InterruptSkip;
  private readonly peers: Peers;
  private readonly pty: TerminalPty;
  private ended: Promise<void> | undefined;
  /** Whether its stream starts with a screen saved by an earlier server process. */
  private readonly restored: boolean;
  /** The shell's start, once the first HELLO asked for it: true when it runs. */
  private starting: Promise<boolean> | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private lastActivityAt = -Infinity;
  private readonly keeper: ScreenKeeper | undefined;

  constructor(opts: TerminalOptions) {
    this.opts = opts;
    this.key = opts.key;
    this.sessionId = opts.sessionId;
    this.tab = opts.tab;
    this.log = opts.log.child({ terminal: this.terminalId, sessionId: opts.sessionId, tab: opts.tab });
    this.peers = new Peers(this.log);
    this.pty = new TerminalPty(opts, this.terminalId, this.log, {
      data: (buf) => this.onData(buf),
      exit: (code, signal) => this.onExit(code, signal),
    });
    const batch = { ...BATCH, ...opts.batch };
    const replayBytes = opts.replayBytes ?? DEFAULT_REPLAY_BYTES;
    this.output = new OutputStream(batch, replayBytes, {
      publish: (end, sendTo) => this.publish(end, sendTo),
      published: () => {
        this.flow.update();
        this.keeper?.changed();
      },
    });
    this.interrupts = new InterruptSkip({ ...INTERRUPT, ...opts.interrupt }, undefined, (r) =>
      this.log.info(r, 'output written before an interrupt discarded'),
    );
    const state = () => ({ owner: this.peers.owner, produced: this.output.produced, draining: this.interrupts.skipping });
    this.flow = new FlowControl({ ...FLOW, ...opts.flow }, { replayBytes, batchBytes: batch.maxBytes }, state, this.log);
    // The old screen and the note are the start of this terminal's stream: every client gets them
    // through the usual replay (a reset, as the stream id is new), before the new shell's output.
    this.restored = !!opts.restored;
    this.streamPrefix = `${opts.streamTag ?? PROCESS_TAG}.`;
    this.stream = `${this.streamPrefix}${randomBytes(9).toString('base64url')}`;
    if (opts.restored) this.restore(opts.restored);
    this.keeper = opts.screens?.keeper(this.sessionId, this.tab, this.terminalId, () => this.output.kept());
  }

  /**
   * A killed server's shells go on running in the host, unreachable: end them (so the note's
   * "your previous shell ended" is true and nothing piles up), and show the screen they drew.
   */
  private restore(saved: SavedScreen): void {
    const { driver, env, host } = this.opts;
    driver.closeTerminal(env, host, saved.terminalId).catch((err: Error) => this.log.warn({ err: err.message }, 'could not end the previous shell'));
    for (const piece of restoredStream(saved)) this.output.append(piece);
    this.log.info({ bytes: saved.bytes.length, previous: saved.terminalId }, 'terminal restored from its saved screen');
  }

  /**
   * Starts the shell before any socket (the session just became active; the learner's page is on
   * its way), so its prompt is waiting in the replay when the first HELLO comes. The first
   * owner's HELLO sets the real size. Nobody comes within the grace period: it ends as usual.
   */
  prestart(cols = 80, rows = 24): void {
    if (this.ended || this.starting) return;
    this.starting = this.start(cols, rows);
    if (this.peers.size === 0) this.startGrace();
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
    const peer = this.peers.add(ws, role);
    peer.helloTimer = setTimeout(() => ws.close(CLOSE.helloTimeout, 'no hello'), this.opts.helloTimeoutMs ?? 10_000);
    ws.on('message', (data, isBinary) => this.onMessage(peer, data as Buffer | Buffer[], isBinary));
    ws.on('close', () => this.detach(peer));
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    this.log.debug({ role, sockets: this.peers.size }, 'socket attached');
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
        return void this.onHello(peer, msg.hello).catch((err: Error) => this.log.error({ err: err.message }, 'hello failed'));
      case 'input':
        if (peer === this.peers.owner && peer.ready && this.pty.running) {
          // An interrupt during a flood: what Docker still holds of the flood is discarded (interrupt.ts).
          this.interrupts.typed(msg.data, this.flow.backlogged);
          if (this.interrupts.skipping) this.flow.update();
          this.pty.write(msg.data);
          this.activity();
        }
        return;
      case 'resize':
        if (peer === this.peers.owner) this.pty.resize(msg.cols, msg.rows);
        return;
      case 'ack':
        // Cumulative and monotonic; an ack past what was sent is clamped, not trusted.
        if (msg.offset > peer.acked) {
          const behind = peer.unacked;
          peer.acked = Math.min(msg.offset, peer.sent);
          if (peer === this.peers.owner) this.flow.acked(peer.acked, behind);
        }
        if (peer === this.peers.owner) this.flow.update();
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

  private async onHello(peer: Peer, hello: HelloPayload): Promise<void> {
    if (peer.hello) return; // a second HELLO changes nothing
    peer.hello = true;
    clearTimeout(peer.helloTimer);
    // The first HELLO starts the shell (at its window's size); later ones wait for the same start.
    this.starting ??= this.start(hello.cols, hello.rows);
    if (!(await this.starting)) return;
    if (this.ended || !this.peers.has(peer)) return; // gone while the shell started
    this.output.flush(); // the replay must include everything produced so far

    // An offset from another stream (restarted shell, server restart) or from
    // the future means the client's screen is not ours: start it over.
    const end = this.output.end;
    const sameStream = hello.stream === this.stream && hello.offset <= end;
    const r = this.output.since(sameStream ? hello.offset : 0);
    // A client whose stream another server process drew (a replica it reconnected away from) keeps
    // its screen, unless this terminal restored a saved one (then that screen is the one to show).
    const moved = !sameStream && !this.restored && r.lost === 0 && !!hello.stream && !hello.stream.startsWith(this.streamPrefix);
    const reset = !moved && (!sameStream || r.lost > 0);
    sendStatus(peer.ws, { type: 'replay', stream: this.stream, from: r.from, to: end, reset, lost: sameStream ? r.lost : r.from, ...(moved ? { moved } : {}) });
    for (const c of r.chunks) send(peer.ws, encodeOutput(c.offset, c.data));
    peer.sent = end;
    peer.acked = r.from;
    peer.ready = true;

    if (peer.mayOwn && this.peers.takeOwnership(peer)) {
      this.flow.release();
      this.flow.newOwner();
      this.flow.update();
    }
    const role: Role = peer === this.peers.owner ? 'owner' : 'viewer';
    if (role === 'owner') this.pty.resize(hello.cols, hello.rows); // the keyboard's window decides the size
    const { cols, rows } = this.pty;
    sendStatus(peer.ws, { type: 'ready', stream: this.stream, offset: this.output.end, role, cols, rows });
    this.flow.update();
    this.log.debug({ role, resumeFrom: hello.offset, replayed: end - r.from, lost: r.lost, sameStream }, 'socket ready');
  }

  private detach(peer: Peer): void {
    const removed = this.peers.remove(peer);
    if (!removed) return;
    if (removed.wasOwner) {
      // No window left to type in: keep the dropped owner's place for its reconnect.
      if (!this.peers.owner && peer.ready) this.flow.hold(peer.acked);
      this.flow.update();
    }
    this.log.debug({ sockets: this.peers.size }, 'socket detached');
    if (this.peers.size === 0 && !this.ended) this.startGrace();
  }

  // ---- the pty --------------------------------------------------------------

  private async start(cols: number, rows: number): Promise<boolean> {
    try {
      const proc = await this.pty.open(cols, rows);
      if (!this.ended) this.flow.start(proc);
    } catch (err) {
      const { host } = this.opts;
      const message = err instanceof Error ? err.message : String(err);
      this.log.error({ err: message, host }, 'could not open terminal');
      for (const p of this.peers) {
        sendStatus(p.ws, { type: 'error', message: clip(`Could not start a shell on host "${host}": ${message}`, 2000), fatal: true });
        p.ws.close(CLOSE.startFailed, 'start failed');
      }
      void this.end('start failed');
      return false;
    }
    return true;
  }

  private onData(buf: Buffer): void {
    if (this.ended) return;
    const kept = this.interrupts.filter(buf);
    if (kept) this.output.push(kept);
  }

  /** One frame out to every ready socket; the others get it from the replay when their HELLO comes. */
  private publish(end: number, sendTo: SendFrame): void {
    const owner = this.peers.owner;
    for (const p of this.peers) {
      if (!p.ready) continue;
      if (sendTo(p.ws) && p === owner) this.flow.sent(end);
      p.sent = end;
      this.flow.dropIfTooSlow(p, owner);
    }
  }

  private onExit(code: number, signal?: number): void {
    this.flow.stop();
    this.output.flush();
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
    this.graceTimer = setTimeout(() => void this.end('grace period over'), this.opts.graceMs);
    this.graceTimer.unref();
  }

  private cancelGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /**
   * Ends the terminal: tells attached sockets why, ends every process it
   * started inside the host (driver.closeTerminal), then the local pty client
   * and its process group. Idempotent; resolves when done.
   */
  end(reason: string, closeCode: number = CLOSE.sessionClosed): Promise<void> {
    if (this.ended) return this.ended;
    this.cancelGrace();
    this.flow.release();
    this.output.dispose();
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
    this.ended = Promise.all([this.pty.close(), screen]).then(() => undefined);
    this.opts.onEnd?.(this);
    return this.ended;
  }
}
