/**
 * The browser side of the terminal protocol, without React or xterm (so the
 * same code runs in the page and in Node tests against the real gateway).
 * It keeps the stream offset of what it handed to the screen, resumes with it
 * after a drop (HELLO), skips duplicates, acks what the screen has rendered,
 * notices a dead link by pinging when the line is quiet, and reconnects with
 * backoff until it gives up and offers a button.
 */
import {
  CLOSE,
  FINAL_CLOSE_CODES,
  FLOW,
  decodeServerFrame,
  encodeAck,
  encodeHello,
  encodeInputFrames,
  encodePing,
  encodeResize,
  validDim,
  type Role,
  type Status,
} from './protocol';

export type TerminalState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface ClientStatus {
  state: TerminalState;
  role?: Role;
  /** Human text for an overlay or a live region. */
  message?: string;
  exitCode?: number;
  /** Next automatic attempt (reconnecting) in ms. */
  retryInMs?: number;
}

/** Where output goes: xterm's write(data, callback) and reset(). */
export interface TerminalSink {
  write(data: Uint8Array, rendered: () => void): void;
  reset(): void;
  /** A line of platform text (not part of the stream), e.g. "earlier output not kept". */
  notice?(text: string): void;
}

/** The subset of the browser WebSocket this client uses (also met by the `ws` package). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** Token fetch failure; `final` when retrying cannot help (session gone, forbidden). */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly final: boolean,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface TerminalClientOptions {
  getToken(): Promise<string>;
  socketUrl(token: string): string;
  createSocket?(url: string): SocketLike;
  sink: TerminalSink;
  size(): { cols: number; rows: number };
  onStatus?(status: ClientStatus): void;
  backoff?: Partial<typeof DEFAULT_BACKOFF>;
  liveness?: Partial<typeof DEFAULT_LIVENESS>;
  ackEveryBytes?: number;
}

/** Fast first retries, capped, and a limit after which a button takes over. */
/** Input typed while not connected that is kept for when the terminal is ready. */
const PENDING_INPUT_LIMIT = 4096;

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 5_000, giveUpAfterMs: 120_000 };
/** Ping when nothing arrived for idleMs; drop the socket when the answer takes deadMs. */
export const DEFAULT_LIVENESS = { idleMs: 15_000, deadMs: 10_000, checkEveryMs: 2_500 };

const OPEN = 1;

export class TerminalClient {
  private readonly o: TerminalClientOptions;
  private readonly backoff: typeof DEFAULT_BACKOFF;
  private readonly liveness: typeof DEFAULT_LIVENESS;
  private readonly ackEvery: number;
  private ws: SocketLike | undefined;
  private status: ClientStatus = { state: 'connecting' };
  private stream: string | undefined;
  /** Stream offset of everything handed to the sink. */
  private offset = 0;
  /** Stream offset the sink has confirmed rendered. */
  private rendered = 0;
  private lastAck = 0;
  private generation = 0;
  private everReady = false;
  private final: { message: string; exitCode?: number } | undefined;
  private lastServerMessage: string | undefined;
  private attempt = 0;
  private failingSince: number | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private livenessTimer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private pingSentAt: number | undefined;
  private pingNonce = 0;
  private disposed = false;
  private size: { cols: number; rows: number } | undefined;
  private pendingInput: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(opts: TerminalClientOptions) {
    this.o = opts;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.liveness = { ...DEFAULT_LIVENESS, ...opts.liveness };
    this.ackEvery = opts.ackEveryBytes ?? FLOW.ackEveryBytes;
  }

  get state(): TerminalState {
    return this.status.state;
  }
  get role(): Role | undefined {
    return this.status.role;
  }
  /** Bytes of the current stream handed to the screen. */
  get streamOffset(): number {
    return this.offset;
  }

  start(): void {
    void this.connect();
  }

  /** Sends keystrokes/paste (owner only, once ready). Returns false when dropped. */
  sendInput(data: string | Uint8Array): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.status.state !== 'ready' || this.status.role !== 'owner') {
      // Keystrokes typed while (re)connecting are kept, a little of them, and sent once ready:
      // a learner who types right after the page opens must not lose the command.
      if (this.status.state === 'closed' || this.status.role === 'viewer') return false;
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      if (this.pendingBytes + bytes.length > PENDING_INPUT_LIMIT) return false;
      this.pendingInput.push(bytes);
      this.pendingBytes += bytes.length;
      return true;
    }
    for (const f of encodeInputFrames(data)) ws.send(f);
    return true;
  }

  private flushPendingInput(ws: SocketLike): void {
    if (this.status.role !== 'owner') return;
    const queued = this.pendingInput;
    this.pendingInput = [];
    this.pendingBytes = 0;
    for (const bytes of queued) for (const f of encodeInputFrames(bytes)) ws.send(f);
  }

  resize(cols: number, rows: number): void {
    if (!validDim(cols) || !validDim(rows)) return;
    if (this.size && this.size.cols === cols && this.size.rows === rows) return;
    this.size = { cols, rows };
    if (this.ws?.readyState === OPEN && this.status.state === 'ready') this.ws.send(encodeResize(cols, rows));
  }

  /** Reconnect at once (the Reconnect button, the browser coming back online). */
  reconnectNow(): void {
    if (this.disposed) return;
    if (this.status.state === 'ready' || this.status.state === 'connecting') return this.poke();
    clearTimeout(this.retryTimer);
    this.final = undefined;
    this.attempt = 0;
    this.failingSince = undefined;
    void this.connect();
  }

  /** Checks the link now: a ping that must be answered within deadMs. */
  poke(): void {
    if (this.ws?.readyState === OPEN && this.pingSentAt === undefined) this.sendPing();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.livenessTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      detach(ws);
      try {
        ws.close(CLOSE.normal, 'closed by page');
      } catch {
        /* already closed */
      }
    }
  }

  // ---- connection -------------------------------------------------------------

  private emit(status: ClientStatus): void {
    this.status = status;
    this.o.onStatus?.(status);
  }

  private async connect(): Promise<void> {
    if (this.disposed) return;
    this.lastServerMessage = undefined;
    this.emit({ state: this.everReady ? 'reconnecting' : 'connecting', role: this.status.role, message: this.status.message });
    let token: string;
    try {
      token = await this.o.getToken();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof TokenError && err.final) return this.close(message);
      return this.retry(`Could not get a terminal token: ${message}`);
    }
    if (this.disposed) return;
    let ws: SocketLike;
    try {
      ws = (this.o.createSocket ?? defaultSocket)(this.o.socketUrl(token));
    } catch (err) {
      return this.retry(`Could not open the terminal connection: ${(err as Error).message}`);
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      const { cols, rows } = this.currentSize();
      this.lastMessageAt = Date.now();
      ws.send(encodeHello({ offset: this.stream ? this.offset : 0, stream: this.stream, cols, rows }));
      this.startLiveness(ws);
    };
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onclose = (ev) => this.onSocketClosed(ws, ev.code);
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  private currentSize(): { cols: number; rows: number } {
    const s = this.o.size();
    if (validDim(s.cols) && validDim(s.rows)) this.size = s;
    return this.size ?? { cols: 80, rows: 24 };
  }

  private onFrame(ws: SocketLike, data: unknown): void {
    if (ws !== this.ws) return;
    this.lastMessageAt = Date.now();
    this.pingSentAt = undefined;
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return this.drop(ws, 'the server sent a text frame');
    const decoded = decodeServerFrame(data as ArrayBuffer);
    if (!decoded.ok) return this.drop(ws, decoded.error);
    const msg = decoded.msg;
    if (msg.type === 'output') return this.onOutput(ws, msg.offset, msg.data);
    if (msg.type === 'status') return this.onStatusMessage(ws, msg.status);
  }

  private onOutput(ws: SocketLike, at: number, data: Uint8Array): void {
    let bytes = data;
    if (at + bytes.length <= this.offset) return; // all seen already
    if (at < this.offset)
      bytes = bytes.subarray(this.offset - at); // overlap: keep the new tail
    else if (at > this.offset) {
      // Should not happen (the server announces gaps); say so rather than pretend.
      this.o.sink.notice?.(`[labforge: ${at - this.offset} bytes of output missing]`);
      this.rendered = this.lastAck = at;
    }
    const end = at + data.length;
    this.offset = end;
    const gen = this.generation;
    this.o.sink.write(bytes, () => {
      if (gen !== this.generation || end <= this.rendered) return;
      this.rendered = end;
      // Ack every ackEvery bytes, and whenever the screen has caught up (so the
      // server never waits on a tail smaller than ackEvery, whatever the tuning).
      const due = this.rendered - this.lastAck >= this.ackEvery || (this.rendered === this.offset && this.rendered > this.lastAck);
      if (due && this.ws === ws && ws.readyState === OPEN) {
        this.lastAck = this.rendered;
        ws.send(encodeAck(this.rendered));
      }
    });
  }

  private onStatusMessage(ws: SocketLike, s: Status): void {
    switch (s.type) {
      case 'replay':
        if (s.reset) {
          this.generation++;
          this.o.sink.reset();
          this.offset = this.rendered = this.lastAck = s.from;
          if (s.lost > 0) this.o.sink.notice?.(`[labforge: ${formatBytes(s.lost)} of earlier output not kept]`);
        }
        this.stream = s.stream;
        return;
      case 'ready': {
        this.everReady = true;
        this.attempt = 0;
        this.failingSince = undefined;
        this.emit({ state: 'ready', role: s.role });
        // The window may have changed while we were away.
        const size = this.currentSize();
        if (size.cols !== s.cols || size.rows !== s.rows) ws.send(encodeResize(size.cols, size.rows));
        this.flushPendingInput(ws);
        return;
      }
      case 'role':
        this.emit({ ...this.status, role: s.role, message: s.reason });
        return;
      case 'exited':
        this.final = { message: `The shell exited${s.code ? ` with code ${s.code}` : ''}.`, exitCode: s.code };
        return;
      case 'closed':
        this.lastServerMessage = s.reason;
        return;
      case 'error':
        this.lastServerMessage = s.message;
        if (s.fatal) this.final = { message: s.message };
        return;
    }
  }

  private onSocketClosed(ws: SocketLike, code: number): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    detach(ws);
    clearInterval(this.livenessTimer);
    if (this.disposed) return;
    if (!this.final && FINAL_CLOSE_CODES.includes(code)) this.final = { message: this.lastServerMessage ?? 'The terminal was closed.' };
    if (this.final) return this.close(this.final.message, this.final.exitCode);
    this.retry(this.lastServerMessage ?? 'Connection lost.');
  }

  /** Gives up on a socket (dead link or garbage) and goes through the normal reconnect path. */
  private drop(ws: SocketLike, why: string): void {
    this.lastServerMessage = `Connection problem (${why}).`;
    try {
      ws.close(CLOSE.protocolError, 'dropped by client');
    } catch {
      /* ignore */
    }
    this.onSocketClosed(ws, CLOSE.protocolError);
  }

  private retry(message: string): void {
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince >= this.backoff.giveUpAfterMs) {
      return this.close(`${message} Gave up reconnecting after ${Math.round((now - this.failingSince) / 1000)} s.`);
    }
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.emit({ state: 'reconnecting', role: this.status.role, message, retryInMs: delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private close(message: string, exitCode?: number): void {
    clearTimeout(this.retryTimer);
    this.emit({ state: 'closed', message, exitCode });
  }

  // ---- liveness -----------------------------------------------------------------

  private startLiveness(ws: SocketLike): void {
    clearInterval(this.livenessTimer);
    this.pingSentAt = undefined;
    this.livenessTimer = setInterval(() => {
      if (ws !== this.ws || ws.readyState !== OPEN) return;
      const now = Date.now();
      if (this.pingSentAt !== undefined) {
        if (now - this.pingSentAt > this.liveness.deadMs) this.drop(ws, `no answer for ${Math.round((now - this.pingSentAt) / 1000)} s`);
      } else if (now - this.lastMessageAt > this.liveness.idleMs) this.sendPing();
    }, this.liveness.checkEveryMs);
  }

  private sendPing(): void {
    this.pingSentAt = Date.now();
    this.ws?.send(encodePing(++this.pingNonce));
  }
}

function detach(ws: SocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

function defaultSocket(url: string): SocketLike {
  return new WebSocket(url) as unknown as SocketLike;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
