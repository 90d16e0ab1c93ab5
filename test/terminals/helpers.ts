/**
 * Test plumbing for the terminal integration tests: a real HTTP server with the
 * real gateway, real ws sockets, the real browser-side TerminalClient, and (as
 * a seam fake until a Docker host is used) the local pty driver
 * (test/support/local-pty-driver.ts), its ptys watched from the driver's side.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { TokenStore, type TokenClaims } from '../../lib/auth/tokens';
import type { Environment, EnvironmentDriver } from '../../lib/environments/driver';
import { log } from '../../lib/base/log';
import { TerminalClient, type ClientStatus, type SocketLike, type TerminalClientOptions, type TerminalSink } from '../../lib/terminals/common/client';
import { createTerminalGateway, type ResolvedTerminal, type TerminalGateway, type TerminalGatewayOptions } from '../../lib/terminals/node/gateway';
import { WS_PATH } from '../../lib/terminals/common/protocol';
import { LocalPtyDriver, localEnv } from '../support/local-pty-driver';

/** What the gateway did to one pty, seen from the driver's side (a test cannot look inside a terminal). */
export interface PtyWatch {
  /** The local pty process (for LocalPtyDriver: the shell, its session's leader); 0 when there is none (the Docker driver's). */
  pid: number;
  /** Paused by flow control right now. */
  paused: boolean;
  /** Bytes the pty has produced so far. */
  bytes: number;
}

/** `driver`, except that every terminal process it opens is watched: `ptys` in opening order. */
function watching(driver: EnvironmentDriver, ptys: PtyWatch[]): EnvironmentDriver {
  const openTerminal: EnvironmentDriver['openTerminal'] = async (env, host, opts) => {
    const p = await driver.openTerminal(env, host, opts);
    const w: PtyWatch = { pid: (p as { pid?: number }).pid ?? 0, paused: false, bytes: 0 };
    const pause = p.pause.bind(p);
    const resume = p.resume.bind(p);
    p.pause = () => {
      w.paused = true;
      pause();
    };
    p.resume = () => {
      w.paused = false;
      resume();
    };
    p.onData((d) => (w.bytes += d.length));
    ptys.push(w);
    return p;
  };
  // A proxy rather than a copy: the driver's own methods keep their `this`.
  return new Proxy(driver, {
    get: (target, key) => {
      if (key === 'openTerminal') return openTerminal;
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

export interface TestServer {
  url: string;
  origin: string;
  gateway: TerminalGateway;
  tokens: TokenStore;
  /** Every pty the server's terminals opened, oldest first. */
  ptys: PtyWatch[];
  token(claims?: Partial<TokenClaims>): Promise<string>;
  /** Destroys every upgraded TCP connection: a network drop as the browser sees it. */
  dropConnections(): number;
  /** Stops reading from every upgraded connection: the server goes silent, the TCP link stays up. */
  freezeConnections(): void;
  /** The underlying HTTP server (to add routes in browser tests). */
  http: http.Server;
  close(): Promise<void>;
}

export async function startServer(
  opts: { driver?: EnvironmentDriver; env?: Environment; host?: string; tokens?: TokenStore; onRequest?: http.RequestListener } & Partial<
    Omit<TerminalGatewayOptions, 'tokens'>
  > = {},
): Promise<TestServer> {
  const tokens = opts.tokens ?? new TokenStore();
  const ptys: PtyWatch[] = [];
  const driver = watching(opts.driver ?? new LocalPtyDriver(), ptys);
  const server = http.createServer((req, res) => (opts.onRequest ? opts.onRequest(req, res) : res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const resolve = async (claims: TokenClaims): Promise<ResolvedTerminal> => {
    if (claims.sessionId === 'gone') throw new Error('This lab session has ended.');
    return { driver, env: opts.env ?? localEnv, host: opts.host ?? 'main', key: `${claims.sessionId}:${claims.tab}` };
  };
  const gateway = createTerminalGateway({ allowedOrigins: [origin], tokens, resolve, graceMs: 60_000, log, ...opts });
  const upgraded = new Set<import('node:stream').Duplex>();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    if (new URL(req.url ?? '/', 'http://x').pathname === WS_PATH) gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  return {
    url: `ws://127.0.0.1:${port}${WS_PATH}`,
    origin,
    gateway,
    tokens,
    ptys,
    token: (c = {}) => tokens.issue({ sessionId: 's-1', tab: 'shell', learnerId: 'l-1', role: 'owner', ...c }),
    dropConnections: () => {
      const n = upgraded.size;
      for (const s of upgraded) s.destroy();
      return n;
    },
    freezeConnections: () => {
      for (const s of upgraded) s.pause();
    },
    http: server,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A sink that keeps every byte and renders "instantly" (its callback on the next
 * turn). `has()` searches only what arrived since the last call, so polling it
 * during a multi-megabyte flood does not starve the server in this same process.
 */
export class CollectSink implements TerminalSink {
  chunks: Buffer[] = [];
  resets = 0;
  notices: string[] = [];
  private cache: Buffer | undefined;
  private scans = new Map<string, { next: number; carry: string; found: boolean }>();
  write(data: Uint8Array, rendered: () => void): void {
    this.chunks.push(Buffer.from(data));
    this.cache = undefined;
    setImmediate(rendered);
  }
  reset(): void {
    this.resets++;
    this.chunks = [];
    this.cache = undefined;
    this.scans.clear();
  }
  notice(text: string): void {
    this.notices.push(text);
  }
  bytes(): Buffer {
    this.cache ??= Buffer.concat(this.chunks);
    return this.cache;
  }
  text(): string {
    return this.bytes().toString('utf8');
  }
  /** Whether `needle` (ASCII) has appeared, scanning only new chunks. */
  has(needle: string): boolean {
    let st = this.scans.get(needle);
    if (!st) this.scans.set(needle, (st = { next: 0, carry: '', found: false }));
    while (!st.found && st.next < this.chunks.length) {
      const s = st.carry + this.chunks[st.next++].toString('latin1');
      st.found = s.includes(needle);
      st.carry = s.slice(-(needle.length - 1) || s.length);
    }
    return st.found;
  }
}

/**
 * A CollectSink whose screen stops acking while `acking` is false: its render callbacks wait in
 * `parked` until `release()`, the way a browser that stopped drawing holds back flow control.
 */
export class ParkingSink extends CollectSink {
  acking = true;
  private parked: Array<() => void> = [];
  constructor(acking = true) {
    super();
    this.acking = acking;
  }
  override write(data: Uint8Array, rendered: () => void): void {
    super.write(data, () => (this.acking ? rendered() : this.parked.push(rendered)));
  }
  /** Acks from now on, and acks everything held back. */
  release(): void {
    this.acking = true;
    for (const cb of this.parked.splice(0)) cb();
  }
}

export interface TestClient {
  client: TerminalClient;
  sink: CollectSink | TerminalSink;
  statuses: ClientStatus[];
  sockets: WebSocket[];
  /** The ws of the current connection (to drop it abruptly). */
  current(): WebSocket | undefined;
}

/** The real browser-side client, over `ws` sockets with an Origin header. */
export function connectClient(
  srv: TestServer,
  opts: { claims?: Partial<TokenClaims>; sink?: TerminalSink; dims?: { cols: number; rows: number } } & Partial<Omit<TerminalClientOptions, 'sink'>> = {},
): TestClient {
  const { claims, sink: givenSink, dims, ...rest } = opts;
  const sink = givenSink ?? new CollectSink();
  const statuses: ClientStatus[] = [];
  const sockets: WebSocket[] = [];
  const client = new TerminalClient({
    getToken: async () => srv.token(claims),
    socketUrl: (token) => `${srv.url}?token=${encodeURIComponent(token)}`,
    createSocket: (url) => {
      const ws = new WebSocket(url, { origin: srv.origin });
      sockets.push(ws);
      return ws as unknown as SocketLike;
    },
    size: () => dims ?? { cols: 100, rows: 30 },
    onStatus: (s) => statuses.push(s),
    backoff: { initialMs: 50, maxMs: 500, giveUpAfterMs: 10_000 },
    ...rest,
    sink,
  });
  client.start();
  return { client, sink, statuses, sockets, current: () => sockets.at(-1) };
}

/** Opens a socket and reports how the upgrade ended: 'open' or the HTTP status of the refusal. */
export function tryUpgrade(url: string, origin: string | undefined): Promise<{ status: number | 'open'; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 'open', body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => {});
  });
}
