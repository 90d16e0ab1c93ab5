/**
 * The browser side of the terminal protocol, without React or xterm (so the
 * same code runs in the page and in Node tests against the real gateway).
 * It keeps its place in the output stream (stream.ts: resumes after a drop,
 * skips duplicates, acks what the screen has rendered), notices a dead link
 * (liveness.ts), and reconnects with backoff until it gives up and offers a
 * button.
 */
import {
  CLOSE,
  FINAL_CLOSE_CODES,
  FLOW,
  decodeServerFrame,
  encodeAck,
  encodeHello,
  encodeInputFrames,
  encodeResize,
  validDim,
  type Role,
  type Status,
} from './protocol';
import { DEFAULT_LIVENESS, Liveness, type LivenessTuning } from './liveness';
import { StreamReader } from './stream';

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
  liveness?: Partial<LivenessTuning>;
  ackEveryBytes?: number;
}

/** Input typed while not connected that is kept for when the terminal is ready. */
const PENDING_INPUT_LIMIT = 4096;

/** Fast first retries, capped, and a limit after which a button takes over. */
export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 5_000, giveUpAfterMs: 120_000 };

const OPEN = 1;

export class TerminalClient {
  private readonly o: TerminalClientOptions;
  private readonly backoff: typeof DEFAULT_BACKOFF;
  private readonly liveness: Liveness<SocketLike>;
  private readonly reader: StreamReader;
  private ws: SocketLike | undefined;
  private status: ClientStatus = { state: 'connecting' };
  private everReady = false;
  private final: { message: string; exitCode?: number } | undefined;
  private lastServerMessage: string | undefined;
  private attempt = 0;
  private failingSince: number | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private size: { cols: number; rows: number } | undefined;
  private pendingInput: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(opts: TerminalClientOptions) {
    this.o = opts;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.liveness = new Liveness({ ...DEFAULT_LIVENESS, ...opts.liveness }, (ws, why) => this.drop(ws, why));
    this.reader = new StreamReader(opts.sink, opts.ackEveryBytes ?? FLOW.ackEveryBytes);
  }

  get state(): TerminalState {
    return this.status.state;
  }
  get role(): Role | undefined {
    return this.status.role;
  }
  /** Bytes of the current stream handed to the screen. */
  get streamOffset(): number {
    return this.reader.offset;
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
    if (this.ws?.readyState === OPEN) this.liveness.poke(this.ws);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.liveness.stop();
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
      ws.send(encodeHello({ ...this.reader.resumeAt(), cols, rows }));
      this.liveness.watch(ws, () => ws === this.ws);
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
    this.liveness.heard();
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return this.drop(ws, 'the server sent a text frame');
    const decoded = decodeServerFrame(data as ArrayBuffer);
    if (!decoded.ok) return this.drop(ws, decoded.error);
    const msg = decoded.msg;
    if (msg.type === 'output') return this.reader.output(msg.offset, msg.data, (offset) => this.ack(ws, offset));
    if (msg.type === 'status') return this.onStatusMessage(ws, msg.status);
  }

  /** A render callback may come after its socket was replaced or closed: then there is nothing to ack. */
  private ack(ws: SocketLike, offset: number): boolean {
    if (this.ws !== ws || ws.readyState !== OPEN) return false;
    ws.send(encodeAck(offset));
    return true;
  }

  private onStatusMessage(ws: SocketLike, s: Status): void {
    switch (s.type) {
      case 'replay':
        return this.reader.replay(s);
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
    this.liveness.stop();
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
}

function detach(ws: SocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

function defaultSocket(url: string): SocketLike {
  return new WebSocket(url) as unknown as SocketLike;
}
