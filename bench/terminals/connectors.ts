/**
 * How each contender's browser side is driven from Node, each feeding the same
 * BenchTerminal (headless xterm) and sending what it types:
 *  - labforge: the real TerminalClient (lib/terminals/common/client.ts) over `ws`, with
 *    the token fetched by a same-origin POST and the Origin header set, acking
 *    what xterm parsed exactly as the page does;
 *  - bare: a plain socket, one frame in = one xterm write; no protocol;
 *  - wetty: socket.io-client over its websocket transport, acking ("commit")
 *    every 256 KiB parsed as WeTTY's own client does.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { TerminalClient, type SocketLike } from '../../lib/terminals/common/client';
import { WS_PATH } from '../../lib/terminals/common/protocol';
import { BenchTerminal } from './terminal';

export interface Connection {
  bt: BenchTerminal;
  /** Resolves when the transport is closed. */
  closed: Promise<void>;
  close(): void;
}

export type Connector = (cols: number, rows: number) => Promise<Connection>;

function postJson(url: string, origin: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { origin } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`POST ${url}: ${res.statusCode} ${body.trim()}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function labforgeConnector(port: number, opts: { parse?: boolean; ackEveryBytes?: number } = {}): Connector {
  const origin = `http://127.0.0.1:${port}`;
  return async (cols, rows) => {
    const bt = new BenchTerminal(cols, rows, opts.parse ?? true);
    const closed = deferred();
    const ready = deferred();
    let failure: string | undefined;
    const client = new TerminalClient({
      getToken: async () => ((await postJson(`${origin}/token`, origin)) as { token: string }).token,
      socketUrl: (token) => `ws://127.0.0.1:${port}${WS_PATH}?token=${encodeURIComponent(token)}`,
      createSocket: (url) => {
        const ws = new WebSocket(url, { origin, perMessageDeflate: false });
        ws.on('close', () => closed.resolve());
        return ws as unknown as SocketLike;
      },
      sink: { write: (data, rendered) => bt.feed(data, rendered), reset: () => bt.term.reset() },
      size: () => ({ cols, rows }),
      onStatus: (s) => {
        if (s.state === 'ready') ready.resolve();
        if (s.state === 'closed' || s.state === 'reconnecting') {
          failure = s.message ?? s.state;
          ready.resolve();
        }
      },
      backoff: { giveUpAfterMs: 0 },
      ackEveryBytes: opts.ackEveryBytes,
    });
    bt.term.onData((d) => client.sendInput(d));
    client.start();
    await ready.promise;
    if (failure) throw new Error(`labforge terminal did not open: ${failure}`);
    return { bt, closed: closed.promise, close: () => client.dispose() };
  };
}

/** The bare server has no flow control: the client stops reading its socket (TCP backpressure) so xterm's 50 MB write limit is never hit. */
export function bareConnector(port: number): Connector {
  return async (cols, rows) => {
    const bt = new BenchTerminal(cols, rows);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/?cols=${cols}&rows=${rows}`, { perMessageDeflate: false });
    ws.binaryType = 'arraybuffer';
    const closed = deferred();
    ws.on('close', () => closed.resolve());
    let paused = false;
    ws.on('message', (d: ArrayBuffer) => {
      bt.feed(new Uint8Array(d), () => {
        if (paused && bt.pending < 1024 * 1024) {
          paused = false;
          ws.resume();
        }
      });
      if (!paused && bt.pending > 8 * 1024 * 1024) {
        paused = true;
        ws.pause();
      }
    });
    bt.term.onData((d) => ws.send(Buffer.from(d, 'utf8')));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { bt, closed: closed.promise, close: () => ws.close() };
  };
}

/** The part of socket.io-client's Socket used here (it is loaded from WeTTY's install, untyped). */
export interface IoSocket {
  // socket.io hands each event's own arguments: typed per event by the caller.
  on(event: string, fn: (...args: never[]) => void): IoSocket;
  once(event: string, fn: (...args: never[]) => void): IoSocket;
  emit(event: string, ...args: unknown[]): IoSocket;
  disconnect(): void;
}
export type IoFactory = (url: string, opts: Record<string, unknown>) => IoSocket;

export const WETTY_ACK_BYTES = 262_144;

export function wettyConnector(port: number, io: IoFactory, base = '/wetty'): Connector {
  return async (cols, rows) => {
    const bt = new BenchTerminal(cols, rows);
    // WebSocket transport only (WeTTY's page starts on long-polling then upgrades): the faster path for WeTTY.
    const socket = io(`http://127.0.0.1:${port}`, { path: `${base}/socket.io`, transports: ['websocket'], reconnection: false, forceNew: true });
    const closed = deferred();
    socket.on('disconnect', () => closed.resolve());
    let counter = 0;
    socket.on('data', (data: string) => {
      counter += data.length;
      if (counter >= WETTY_ACK_BYTES) {
        counter -= WETTY_ACK_BYTES;
        bt.feed(data, () => socket.emit('commit', WETTY_ACK_BYTES));
      } else bt.feed(data);
    });
    bt.term.onData((d) => socket.emit('input', d));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.emit('resize', { cols, rows });
        resolve();
      });
      socket.once('connect_error', (err: Error) => reject(new Error(`WeTTY socket did not connect: ${err.message}`)));
    });
    return { bt, closed: closed.promise, close: () => socket.disconnect() };
  };
}
