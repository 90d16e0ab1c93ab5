/**
 * The terminal wire format, shared by the browser component and the server
 * (so: no Node imports). Every WebSocket message is binary; its first byte is
 * the type. Output carries its byte position in the terminal's whole output
 * stream, so a client can resume exactly where it stopped and spot a gap or a
 * duplicate. Decoders return errors as values: a bad frame is a message for a
 * human, never an exception that kills a connection handler.
 */
import { z } from 'zod';

/** Where the server routes terminal WebSockets. */
export const WS_PATH = '/ws/terminal';

export const MSG = {
  // client -> server
  INPUT: 0x01, // utf-8 bytes typed or pasted
  RESIZE: 0x02, // u16 cols, u16 rows
  ACK: 0x03, // u64 stream offset rendered so far
  HELLO: 0x04, // json HelloPayload
  PING: 0x05, // u32 nonce, answered by PONG (lets a browser notice a dead link)
  // server -> client
  OUTPUT: 0x81, // u64 stream offset + bytes
  STATUS: 0x82, // json Status
  PONG: 0x83, // u32 nonce
} as const;

export const LIMITS = {
  /** Largest client->server frame (the server's ws maxPayload); bigger pastes are split. */
  maxClientFrame: 64 * 1024,
  minDim: 1,
  maxDim: 1000,
  maxStreamIdLength: 64,
} as const;

/**
 * Flow control: the client acks every `ackEveryBytes` it has rendered (and
 * whenever it has caught up); the server pauses the pty while the owner has
 * more than `pauseAboveBytes` unacked and resumes below `resumeBelowBytes`. A
 * viewer can't pause anything: past `viewerMaxUnackedBytes` it is disconnected
 * (it reconnects and resumes).
 *
 * Sized with `npm run bench -- terminals` (bench/terminals.ts): resuming while
 * the screen still has ~256 KiB to parse keeps it busy while the pipe refills
 * (VS Code's 100k/5k stopped the flow until the screen was idle: ~30% less
 * throughput); the window is also output that still shows after Ctrl-C, ~20 ms
 * at headless xterm's parse rate (1 MiB windows gained nothing, cost ~50 ms).
 */
export const FLOW = {
  ackEveryBytes: 32 * 1024,
  /** The largest window (a screen that renders fast, or before its speed is measured); resumeBelowBytes keeps its ratio to it. */
  pauseAboveBytes: 512 * 1024,
  resumeBelowBytes: 256 * 1024,
  /** The window holds this much of the owner's measured rendering (flow.ts), and never less than minWindowBytes. */
  renderTargetMs: 150,
  minWindowBytes: 64 * 1024,
  viewerMaxUnackedBytes: 2 * 1024 * 1024,
  /**
   * After the owner's socket drops, output may fill the replay buffer but not
   * overrun what that owner last acked, for this long: a reconnect after a
   * network blip loses nothing even mid-flood. Then the pty drains again (a
   * program logging into a closed tab must not block forever).
   */
  reconnectHoldMs: 30_000,
} as const;

/** WebSocket close codes the server uses, so the client knows whether to reconnect. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001, // server shutting down: reconnect
  protocolError: 1008,
  /** The shell exited: do not reconnect automatically. */
  exited: 4000,
  /** The lab session ended or the terminal was closed by the platform: do not reconnect. */
  sessionClosed: 4001,
  /** No HELLO in time. */
  helloTimeout: 4002,
  /** The target could not be resolved (session unknown, environment gone): do not reconnect. */
  unavailable: 4004,
  /** A viewer fell too far behind: reconnect and resume. */
  tooSlow: 4008,
  /** The target cannot be reached right now (a host stopped, the engine or database busy): reconnect with backoff. */
  tryAgain: 4013,
  /** Starting the shell failed. */
  startFailed: 4011,
  /** This terminal already has its most sockets (windows) open: close one; do not reconnect. */
  tooManySockets: 4029,
} as const;

/** Close codes after which a client should not reconnect on its own. */
export const FINAL_CLOSE_CODES: readonly number[] = [CLOSE.exited, CLOSE.sessionClosed, CLOSE.unavailable, CLOSE.startFailed, CLOSE.tooManySockets];

const dim = z.number().int().min(LIMITS.minDim).max(LIMITS.maxDim);
const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const streamId = z.string().min(1).max(LIMITS.maxStreamIdLength);

export const helloSchema = z
  .object({
    /** Bytes of `stream` the client has already rendered; 0 for a fresh terminal. */
    offset,
    /** Stream id from an earlier `ready`; a different pty (restarted shell) means start over. */
    stream: streamId.optional(),
    cols: dim,
    rows: dim,
  })
  .strict();
export type HelloPayload = z.infer<typeof helloSchema>;

export const roleSchema = z.enum(['owner', 'viewer']);
export type Role = z.infer<typeof roleSchema>;

export const statusSchema = z.discriminatedUnion('type', [
  /**
   * Precedes the replay: bytes from `from` follow. `reset`: clear the screen first (gap or new stream).
   * `moved`: a new stream whose server never saw the client's (the terminal reconnected through
   * another replica): the screen stays as it is, a note says a new shell started, offsets count anew.
   */
  z.object({ type: z.literal('replay'), stream: streamId, from: offset, to: offset, reset: z.boolean(), lost: offset, moved: z.boolean().optional() }),
  /** Replay done; input is accepted from now on (if owner). */
  z.object({ type: z.literal('ready'), stream: streamId, offset, role: roleSchema, cols: dim, rows: dim }),
  z.object({ type: z.literal('role'), role: roleSchema, reason: z.string().max(500).optional() }),
  z.object({ type: z.literal('exited'), code: z.number().int(), signal: z.number().int().optional() }),
  z.object({ type: z.literal('closed'), reason: z.string().max(500) }),
  z.object({ type: z.literal('error'), message: z.string().max(2000), fatal: z.boolean() }),
]);
export type Status = z.infer<typeof statusSchema>;

export type ClientMessage =
  | { type: 'input'; data: Uint8Array }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ack'; offset: number }
  | { type: 'hello'; hello: HelloPayload }
  | { type: 'ping'; nonce: number };

export type ServerMessage = { type: 'output'; offset: number; data: Uint8Array } | { type: 'status'; status: Status } | { type: 'pong'; nonce: number };

export type Decoded<T> = { ok: true; msg: T } | { ok: false; error: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const U32 = 0x1_0000_0000;

function writeU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / U32));
  view.setUint32(at + 4, n % U32);
}
function readU64(view: DataView, at: number): number {
  return view.getUint32(at) * U32 + view.getUint32(at + 4);
}
function frame(type: number, size: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(1 + size);
  bytes[0] = type;
  return { bytes, view: new DataView(bytes.buffer) };
}
function jsonFrame(type: number, value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  const { bytes } = frame(type, body.length);
  bytes.set(body, 1);
  return bytes;
}
function assertOffset(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`stream offset must be a non-negative safe integer, got ${n}`);
}
export function validDim(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= LIMITS.minDim && n <= LIMITS.maxDim;
}

// ---- encoders -------------------------------------------------------------

export function encodeInput(data: Uint8Array | string): Uint8Array {
  const body = typeof data === 'string' ? encoder.encode(data) : data;
  const { bytes } = frame(MSG.INPUT, body.length);
  bytes.set(body, 1);
  return bytes;
}

/** Splits input into frames that fit LIMITS.maxClientFrame (byte-exact; the pty does not care about utf-8 boundaries). */
export function encodeInputFrames(data: Uint8Array | string): Uint8Array[] {
  const body = typeof data === 'string' ? encoder.encode(data) : data;
  const max = LIMITS.maxClientFrame - 1;
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += max) out.push(encodeInput(body.subarray(i, i + max)));
  return out;
}

export function encodeResize(cols: number, rows: number): Uint8Array {
  if (!validDim(cols) || !validDim(rows)) throw new RangeError(`terminal size must be 1..${LIMITS.maxDim}, got ${cols}x${rows}`);
  const { bytes, view } = frame(MSG.RESIZE, 4);
  view.setUint16(1, cols);
  view.setUint16(3, rows);
  return bytes;
}

export function encodeAck(offset: number): Uint8Array {
  assertOffset(offset);
  const { bytes, view } = frame(MSG.ACK, 8);
  writeU64(view, 1, offset);
  return bytes;
}

export function encodeHello(hello: HelloPayload): Uint8Array {
  return jsonFrame(MSG.HELLO, helloSchema.parse(hello));
}

export function encodePing(nonce: number): Uint8Array {
  const { bytes, view } = frame(MSG.PING, 4);
  view.setUint32(1, nonce >>> 0);
  return bytes;
}

export function encodePong(nonce: number): Uint8Array {
  const { bytes, view } = frame(MSG.PONG, 4);
  view.setUint32(1, nonce >>> 0);
  return bytes;
}

/** Bytes in front of an OUTPUT frame's data: type + u64 offset. */
export const OUTPUT_HEADER_BYTES = 9;

/**
 * Writes the OUTPUT header into the first OUTPUT_HEADER_BYTES of `frame`, whose
 * data already follows: lets the server build frames with no extra copy.
 */
export function writeOutputHeader(frame: Uint8Array, offset: number): Uint8Array {
  assertOffset(offset);
  if (frame.length < OUTPUT_HEADER_BYTES) throw new RangeError('output frame is shorter than its header');
  frame[0] = MSG.OUTPUT;
  writeU64(new DataView(frame.buffer, frame.byteOffset, OUTPUT_HEADER_BYTES), 1, offset);
  return frame;
}

/** One copy: header and data land in a single buffer that can be sent to every socket. */
export function encodeOutput(offset: number, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(OUTPUT_HEADER_BYTES + data.length);
  bytes.set(data, OUTPUT_HEADER_BYTES);
  return writeOutputHeader(bytes, offset);
}

export function encodeStatus(status: Status): Uint8Array {
  return jsonFrame(MSG.STATUS, status);
}

// ---- decoders -------------------------------------------------------------

function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function parseJson<T>(body: Uint8Array, schema: z.ZodType<T>, what: string): Decoded<T> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return { ok: false, error: `${what}: payload is not valid UTF-8 JSON` };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${what}: ${issue.path.join('.') || 'payload'} ${issue.message}` };
  }
  return { ok: true, msg: parsed.data };
}

/** PING and PONG: a type byte and a u32 nonce. */
function decodeNonce<T extends 'ping' | 'pong'>(type: T, bytes: Uint8Array, view: DataView): Decoded<{ type: T; nonce: number }> {
  if (bytes.length !== 5) return { ok: false, error: `${type}: expected a 4-byte nonce` };
  return { ok: true, msg: { type, nonce: view.getUint32(1) } };
}

function unknownType(from: 'client' | 'server', type: number): Decoded<never> {
  return { ok: false, error: `unknown ${from} message type 0x${type.toString(16)}` };
}

export function decodeClientFrame(raw: ArrayBuffer | ArrayBufferView): Decoded<ClientMessage> {
  const bytes = asBytes(raw);
  if (bytes.length === 0) return { ok: false, error: 'empty frame' };
  if (bytes.length > LIMITS.maxClientFrame) return { ok: false, error: `frame of ${bytes.length} bytes exceeds ${LIMITS.maxClientFrame}` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case MSG.INPUT:
      return { ok: true, msg: { type: 'input', data: body } };
    case MSG.RESIZE: {
      if (bytes.length !== 5) return { ok: false, error: 'resize: expected 4 bytes (u16 cols, u16 rows)' };
      const cols = view.getUint16(1);
      const rows = view.getUint16(3);
      if (!validDim(cols) || !validDim(rows)) return { ok: false, error: `resize: size must be 1..${LIMITS.maxDim}, got ${cols}x${rows}` };
      return { ok: true, msg: { type: 'resize', cols, rows } };
    }
    case MSG.ACK: {
      if (bytes.length !== 9) return { ok: false, error: 'ack: expected an 8-byte offset' };
      const offset = readU64(view, 1);
      if (!Number.isSafeInteger(offset)) return { ok: false, error: 'ack: offset out of range' };
      return { ok: true, msg: { type: 'ack', offset } };
    }
    case MSG.HELLO: {
      const r = parseJson(body, helloSchema, 'hello');
      return r.ok ? { ok: true, msg: { type: 'hello', hello: r.msg } } : r;
    }
    case MSG.PING:
      return decodeNonce('ping', bytes, view);
    default:
      return unknownType('client', bytes[0]);
  }
}

export function decodeServerFrame(raw: ArrayBuffer | ArrayBufferView): Decoded<ServerMessage> {
  const bytes = asBytes(raw);
  if (bytes.length === 0) return { ok: false, error: 'empty frame' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (bytes[0]) {
    case MSG.OUTPUT: {
      if (bytes.length < 9) return { ok: false, error: 'output: frame shorter than its 8-byte offset' };
      const offset = readU64(view, 1);
      if (!Number.isSafeInteger(offset)) return { ok: false, error: 'output: offset out of range' };
      return { ok: true, msg: { type: 'output', offset, data: bytes.subarray(9) } };
    }
    case MSG.STATUS: {
      const r = parseJson(bytes.subarray(1), statusSchema, 'status');
      return r.ok ? { ok: true, msg: { type: 'status', status: r.msg } } : r;
    }
    case MSG.PONG:
      return decodeNonce('pong', bytes, view);
    default:
      return unknownType('server', bytes[0]);
  }
}
