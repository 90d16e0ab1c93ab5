/**
 * The terminal WebSocket gateway. The server hands it upgrade requests for
 * WS_PATH; it checks the Origin (browsers apply no same-origin rule to
 * WebSockets) and a single-use token before upgrading, resolves the token's
 * claims to a host through the caller's `resolve`, and attaches the socket to
 * the Terminal for that key (one pty per lab session + tab, shared by every
 * window). Never logs the token (it is in the URL: the URL is never logged).
 * With `screens`, a tab whose terminal is not in memory (the server restarted)
 * starts with the screen the previous process saved (screens.ts). With a `directory` (several
 * replicas), a socket for a tab whose terminal runs on another replica is relayed there (relay.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenClaims, TokenStore } from '../../auth/tokens';
import { originAllowed } from '../../http/origin';
import type { TerminalDirectory } from '../../replicas/terminal-directory';
import { CLOSE, LIMITS, WS_PATH, encodeStatus } from '../common/protocol';
import { clip } from './peers';
import { relay } from './relay';
import type { TerminalTarget } from './pty';
import { Terminal, type TerminalOptions } from './terminal';
import type { SavedScreen, ScreenStore } from './screens';

export interface ResolvedTerminal extends TerminalTarget {
  /** Identity of the pty: sockets with the same key share one shell (e.g. `${sessionId}:${tab}`). */
  key: string;
}

/** The terminal settings are the gateway's: it passes them to every terminal it starts. */
export interface TerminalGatewayOptions extends Pick<
  TerminalOptions,
  'graceMs' | 'log' | 'replayBytes' | 'batch' | 'flow' | 'interrupt' | 'helloTimeoutMs' | 'streamTag'
> {
  /** Exact origins (scheme://host[:port]) allowed to open terminals. */
  allowedOrigins: string[];
  tokens: TokenStore;
  /** Claims -> where the shell runs. Throw an Error with a human message when there is nothing to attach to. */
  resolve: (claims: TokenClaims) => Promise<ResolvedTerminal>;
  /** Whether a `resolve` error may pass by itself (a stopped host, a busy engine): the client then reconnects. Default: none does. */
  isTemporary?: (err: unknown) => boolean;
  /** Interval of WebSocket pings; a socket that missed one is dropped (its pty enters grace). */
  heartbeatMs?: number;
  /** The owner typed in a terminal of this session (throttled: at most once per 15 s per terminal). */
  onInput?: (sessionId: string) => void;
  /** Concurrent sockets per terminal (session + tab); the next is closed with CLOSE.tooManySockets. Default 4. */
  maxSocketsPerTerminal?: number;
  /** Saves each terminal's screen under the data dir and restores it after a restart (none: memory only). */
  screens?: ScreenStore;
  /** Where each tab's terminal runs among replicas (none: one server). */
  directory?: TerminalDirectory;
}

export interface TerminalGateway {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Starts a tab's shell before any socket asks for it (Terminal.prestart): the learner's first
   * prompt is then waiting when their page connects. Resolved as the owner would be; a tab that
   * cannot be reached now is left for the socket to try. Never throws.
   */
  prestart(sessionId: string, learnerId: string, tab: string): Promise<void>;
  /** Ends every terminal of a lab session (it ended): sockets are told why and closed, processes ended. */
  closeSession(sessionId: string, reason?: string): Promise<void>;
  /** Terminals whose shell is alive (in their grace period too) and the sockets attached to them, for metrics. */
  stats(): { terminals: number; sockets: number };
  close(): Promise<void>;
}

/** Windows one learner may have on one terminal at once (each socket costs output fan-out and memory). */
export const MAX_SOCKETS_PER_TERMINAL = 4;

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers an upgrade request with a plain HTTP error (before any WebSocket exists). */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function createTerminalGateway(opts: TerminalGatewayOptions): TerminalGateway {
  const log = opts.log.child({ module: 'terminals' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxClientFrame, perMessageDeflate: false });
  const terminals = new Map<string, Terminal>();
  const alive = new WeakMap<WebSocket, boolean>();
  /** Open sockets per terminal key, counted from the upgrade until the socket closes. */
  const open = new Map<string, number>();
  const maxSockets = opts.maxSocketsPerTerminal ?? MAX_SOCKETS_PER_TERMINAL;
  let closed = false;

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        log.info('socket missed a heartbeat; dropping it');
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  const live = (key: string) => {
    const t = terminals.get(key);
    return t && !t.isEnded ? t : undefined;
  };

  function terminalFor(claims: TokenClaims, target: ResolvedTerminal, restored?: SavedScreen): Terminal {
    const existing = live(target.key);
    if (existing) return existing;
    const terminal = new Terminal({
      ...target,
      sessionId: claims.sessionId,
      tab: claims.tab,
      graceMs: opts.graceMs,
      log,
      replayBytes: opts.replayBytes,
      batch: opts.batch,
      flow: opts.flow,
      interrupt: opts.interrupt,
      helloTimeoutMs: opts.helloTimeoutMs,
      streamTag: opts.streamTag,
      onEnd: (t) => {
        if (terminals.get(t.key) === t) terminals.delete(t.key);
        opts.directory?.release(t.sessionId, t.tab);
      },
      onInput: opts.onInput ? () => opts.onInput!(claims.sessionId) : undefined,
      screens: opts.screens,
      restored,
    });
    terminals.set(target.key, terminal);
    opts.directory?.hold(claims.sessionId, claims.tab);
    return terminal;
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const peer = { ip: req.socket.remoteAddress, origin: req.headers.origin };
    if (closed) return refuse(socket, 503, 'The terminal service is shutting down; try again in a moment.');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return refuse(socket, 404, `No WebSocket endpoint at this path (terminals use ${WS_PATH}).`);

    // A browser always sends Origin on a WebSocket: another site's is refused before the token is
    // looked at. No Origin at all is a program: allowed only with a token a grader's program asked
    // for (claims.client), never with one a learner's page got.
    const originRefused = () => {
      log.warn(peer, 'terminal upgrade refused: origin not allowed');
      return refuse(socket, 403, 'This origin may not open terminals. Open the lab from the platform URL (LABFORGE_PUBLIC_URL).');
    };
    if (req.headers.origin !== undefined && !originAllowed(req.headers.origin, { allowed: opts.allowedOrigins, missing: 'refuse' })) return originRefused();
    const claims = await opts.tokens.consume(url.searchParams.get('token'));
    if (!claims) {
      log.warn(peer, 'terminal upgrade refused: token missing, unknown, used or expired');
      return refuse(socket, 401, 'Terminal token missing, expired or already used. Reload the page to get a new one.');
    }
    if (req.headers.origin === undefined && claims.client !== 'program') return originRefused();
    // The URL may name its target too: it must be the one the token was issued for.
    const session = url.searchParams.get('session');
    const tab = url.searchParams.get('tab');
    if ((session !== null && session !== claims.sessionId) || (tab !== null && tab !== claims.tab)) {
      log.warn({ ...peer, sessionId: claims.sessionId, tab: claims.tab }, 'terminal upgrade refused: token is for another terminal');
      return refuse(socket, 403, 'This terminal token was issued for another terminal.');
    }

    let target: ResolvedTerminal | undefined;
    let problem: { message: string; temporary: boolean } | undefined;
    try {
      target = await opts.resolve(claims);
    } catch (err) {
      problem = { message: err instanceof Error ? err.message : String(err), temporary: opts.isTemporary?.(err) ?? false };
    }
    // No terminal in memory for this tab: another replica may run it (then the socket goes there; a
    // relayed socket never goes further), or a previous server process may have saved its screen.
    const holder =
      target && opts.directory && !live(target.key) && !claims.relayed
        ? await opts.directory
            .elsewhere(claims.sessionId, claims.tab)
            .catch((e: Error) => void log.warn({ err: e.message }, 'could not look up where a terminal runs'))
        : undefined;
    const relayToken = holder ? await opts.tokens.issue({ ...claims, client: 'program', relayed: true }) : undefined;
    const restored = target && !holder && opts.screens && !live(target.key) ? await opts.screens.load(claims.sessionId, claims.tab) : undefined;
    if (socket.destroyed) return;
    if (closed) return refuse(socket, 503, 'The terminal service is shutting down; try again in a moment.');

    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      if (!target) {
        // Upgraded first so the page can show why (browsers hide HTTP errors of a failed upgrade).
        log.info({ sessionId: claims.sessionId, tab: claims.tab, problem }, 'terminal target unavailable');
        const temporary = problem?.temporary ?? false;
        ws.send(encodeStatus({ type: 'error', message: clip(problem?.message ?? 'This terminal is not available.', 2000), fatal: !temporary }));
        ws.close(temporary ? CLOSE.tryAgain : CLOSE.unavailable, temporary ? 'try again' : 'unavailable');
        return;
      }
      if (holder && relayToken) {
        log.info({ sessionId: claims.sessionId, tab: claims.tab, role: claims.role, holder }, 'terminal socket relayed to the replica running it');
        return relay(ws, holder, relayToken, log);
      }
      // Counted here, synchronously with the upgrade, so sockets arriving together cannot overshoot.
      const key = target.key;
      const count = open.get(key) ?? 0;
      if (count >= maxSockets) {
        log.warn({ sessionId: claims.sessionId, tab: claims.tab, sockets: count }, 'terminal socket refused: too many for this terminal');
        const message = `This terminal is already open in ${count} windows, the most it can be: close one of them, then reload this page.`;
        ws.send(encodeStatus({ type: 'error', message, fatal: true }));
        ws.close(CLOSE.tooManySockets, 'too many windows on this terminal');
        return;
      }
      open.set(key, count + 1);
      ws.once('close', () => {
        const n = (open.get(key) ?? 1) - 1;
        if (n > 0) open.set(key, n);
        else open.delete(key);
      });
      log.info({ sessionId: claims.sessionId, tab: claims.tab, learnerId: claims.learnerId, role: claims.role, key: target.key }, 'terminal socket opened');
      terminalFor(claims, target, restored).attach(ws, claims.role);
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      // Errors on the raw socket (client gone mid-handshake, reset after a refusal) must not crash the server.
      socket.on('error', (err: Error) => log.debug({ err: err.message }, 'socket error during upgrade'));
      upgrade(req, socket, head).catch((err) => {
        log.error({ err: (err as Error).message }, 'terminal upgrade failed');
        refuse(socket, 503, 'The terminal could not be opened; try again.');
      });
    },

    async prestart(sessionId, learnerId, tab) {
      if (closed) return;
      const claims: TokenClaims = { sessionId, learnerId, tab, role: 'owner' };
      try {
        const target = await opts.resolve(claims);
        if (closed || live(target.key)) return;
        terminalFor(claims, target).prestart();
        log.debug({ sessionId, tab }, 'terminal started ahead of its first socket');
      } catch (err) {
        log.debug({ sessionId, tab, err: (err as Error).message }, 'terminal not started ahead');
      }
    },

    async closeSession(sessionId, reason = 'The lab session has ended.') {
      const mine = [...terminals.values()].filter((t) => t.sessionId === sessionId);
      await Promise.all(mine.map((t) => t.end(reason, CLOSE.sessionClosed)));
      // Also the screens of tabs with no terminal in memory (saved by a previous server process).
      await opts.screens?.removeSession(sessionId);
    },

    stats() {
      let live = 0;
      for (const t of terminals.values()) if (!t.isEnded) live++;
      return { terminals: live, sockets: wss.clients.size };
    },

    async close() {
      closed = true;
      clearInterval(heartbeat);
      await Promise.all([...terminals.values()].map((t) => t.end('The server is restarting.', CLOSE.goingAway)));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
