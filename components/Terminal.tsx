'use client';
/**
 * A browser terminal: xterm.js on top of TerminalClient (lib/terminals/common/client.ts),
 * which does the protocol work (resume offsets, acks, reconnect). This file is
 * the screen: xterm set-up, fitting, the overlay, and the keyboard.
 *
 * Contracts for tests and assistive tech: the wrapper carries
 * `data-terminal-state` (connecting | ready | reconnecting | closed) and
 * `data-terminal-role`; xterm's own textarea keeps its accessible name
 * "Terminal input" (xterm's default; never overridden here).
 */
import './zod-jitless'; // first: before the protocol's schemas are built (no eval under the CSP)
import '@xterm/xterm/css/xterm.css';
import './terminal.css';
import { useEffect, useRef, useState } from 'react';
import type { Terminal as XTerm } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';
import { TerminalClient, TokenError, type ClientStatus } from '@/lib/terminals/common/client';
import { WS_PATH } from '@/lib/terminals/common/protocol';
import { RUN_EVENT } from './CodeBlock';
import { useLatest } from './use-latest';
import { blinkWhileActive } from './cursor-blink';

export interface TerminalProps {
  sessionId: string;
  tab: string;
  /** Screen-reader mode (the page passes it for `?a11y=1`). */
  a11y?: boolean;
  /** False while the tab is hidden: no fitting to a zero-sized box. */
  visible?: boolean;
  onStatus?: (status: ClientStatus) => void;
  /**
   * Changes when the tab's host starts running again (the page passes its `since`; undefined
   * while it is stopped): a terminal whose shell ended with the host reconnects by itself.
   */
  hostEpoch?: string;
  /** Where the token comes from (default: the learner's endpoint); an instructor watching uses theirs. */
  tokenPath?: string;
}

const FONT_STACK =
  "'JetBrains Mono', 'Fira Code', 'Cascadia Code', 'Source Code Pro', 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', 'Noto Sans Mono', monospace";

const THEME = {
  background: '#0b0e17',
  foreground: '#e6e9f2',
  cursor: '#7c9cff',
  cursorAccent: '#0b0e17',
  selectionBackground: '#3a4a7a',
  black: '#1d2338',
  red: '#ff6b6b',
  green: '#3ecf8e',
  yellow: '#ffb84d',
  blue: '#7c9cff',
  magenta: '#c792ea',
  cyan: '#5fd7e6',
  white: '#d4d8e5',
  brightBlack: '#5c6584',
  brightRed: '#ff8787',
  brightGreen: '#6ee7b0',
  brightYellow: '#ffd080',
  brightBlue: '#a3b8ff',
  brightMagenta: '#ddb3f5',
  brightCyan: '#8ceaf5',
  brightWhite: '#ffffff',
};

/** HTTP statuses of the token endpoint after which retrying cannot help. */
const FINAL_TOKEN_STATUSES = [400, 401, 403, 404, 410];

const learnerTokenPath = (sessionId: string, tab: string) => `/api/v1/sessions/${encodeURIComponent(sessionId)}/terminals/${encodeURIComponent(tab)}/token`;

async function fetchToken(path: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
  } catch {
    throw new TokenError('the server did not answer', false);
  }
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; error?: unknown };
  if (!res.ok) {
    const message = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    throw new TokenError(message, FINAL_TOKEN_STATUSES.includes(res.status));
  }
  if (typeof body.token !== 'string') throw new TokenError('the token response had no token', false);
  return body.token;
}

function socketUrl(sessionId: string, tab: string, token: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const q = new URLSearchParams({ session: sessionId, tab, token });
  return `${scheme}://${location.host}${WS_PATH}?${q}`;
}

export function Terminal({ sessionId, tab, a11y = false, visible = true, onStatus, hostEpoch, tokenPath }: TerminalProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<XTerm | null>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const clientRef = useRef<TerminalClient | null>(null);
  const onStatusRef = useLatest(onStatus);
  const visibleRef = useLatest(visible);
  const a11yRef = useLatest(a11y);
  const [status, setStatus] = useState<ClientStatus>({ state: 'connecting' });

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    let disposed = false;
    const cleanups: Array<() => void> = [];
    /** Snippets from "Run" buttons wait here while the terminal is not ready. */
    const pendingRuns: string[] = [];

    void (async () => {
      // xterm touches the DOM at import time: load it here, in the browser only.
      const [{ Terminal: XTermCtor }, { FitAddon: FitCtor }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed) return;
      const term = new XTermCtor({
        screenReaderMode: a11yRef.current,
        fontFamily: FONT_STACK,
        fontSize: 14,
        lineHeight: 1.15,
        // Blinks only while in use (cursor-blink.ts): a blinking cursor repaints every frame.
        cursorBlink: false,
        scrollback: 10_000,
        macOptionIsMeta: true,
        theme: THEME,
      });
      const fit = new FitCtor();
      term.loadAddon(fit);
      term.open(host);
      termRef.current = term;
      fitRef.current = fit;

      const refit = () => {
        if (!visibleRef.current || host.offsetWidth === 0 || host.offsetHeight === 0) return;
        try {
          fit.fit();
        } catch {
          /* not laid out yet */
        }
      };
      refit();

      const client = new TerminalClient({
        getToken: () => fetchToken(tokenPath ?? learnerTokenPath(sessionId, tab)),
        socketUrl: (token) => socketUrl(sessionId, tab, token),
        size: () => ({ cols: term.cols, rows: term.rows }),
        sink: {
          write: (data, rendered) => term.write(data, rendered),
          reset: () => term.reset(),
          notice: (text) => term.write(`\x1b[2m${text}\x1b[0m\r\n`),
        },
        onStatus: (s) => {
          if (disposed) return;
          term.options.disableStdin = s.role === 'viewer';
          // A viewer's input box is disabled outright: nothing typed there goes anywhere.
          if (term.textarea) term.textarea.disabled = s.role === 'viewer';
          if (s.state === 'ready' && s.role === 'owner') {
            for (const code of pendingRuns.splice(0)) client.sendInput(code);
            if (visibleRef.current && document.activeElement === document.body) term.focus();
          }
          setStatus(s);
          onStatusRef.current?.(s);
        },
      });
      clientRef.current = client;

      const d1 = term.onData((data) => client.sendInput(data));
      // Some key combos (e.g. Alt+letter in some modes) arrive as raw bytes in a binary string.
      const d2 = term.onBinary((data) => client.sendInput(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
      const d3 = term.onResize(({ cols, rows }) => client.resize(cols, rows));
      cleanups.push(() => [d1, d2, d3].forEach((d) => d.dispose()));
      cleanups.push(blinkWhileActive(term));

      let frame = 0;
      const ro = new ResizeObserver(() => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(refit);
      });
      ro.observe(host);
      cleanups.push(() => {
        ro.disconnect();
        cancelAnimationFrame(frame);
      });

      // "Run" buttons in the assignment type into this terminal (TabPanels routes the event here).
      const onRun = (e: Event) => {
        const code = String((e as CustomEvent<string>).detail ?? '').replace(/\r?\n/g, '\r');
        if (!code) return;
        if (!client.sendInput(code)) pendingRuns.push(code);
        term.focus();
      };
      window.addEventListener(`${RUN_EVENT}:${tab}`, onRun);
      cleanups.push(() => window.removeEventListener(`${RUN_EVENT}:${tab}`, onRun));

      // Back online or back in view: check the link now instead of waiting for a timeout.
      const onOnline = () => client.reconnectNow();
      const onVisible = () => document.visibilityState === 'visible' && client.poke();
      window.addEventListener('online', onOnline);
      document.addEventListener('visibilitychange', onVisible);
      cleanups.push(() => {
        window.removeEventListener('online', onOnline);
        document.removeEventListener('visibilitychange', onVisible);
      });

      client.start();
    })();

    return () => {
      disposed = true;
      for (const c of cleanups.splice(0)) c();
      clientRef.current?.dispose();
      clientRef.current = null;
      termRef.current?.dispose();
      termRef.current = null;
      fitRef.current = null;
    };
  }, [sessionId, tab, tokenPath, a11yRef, onStatusRef, visibleRef]);

  useEffect(() => {
    if (termRef.current) termRef.current.options.screenReaderMode = a11y;
  }, [a11y]);

  // The host is running again after a stop: a shell that ended with it gets a new one now, a
  // connection retrying (its token refused while the host was stopped) tries at once.
  const lastEpoch = useRef(hostEpoch);
  useEffect(() => {
    const was = lastEpoch.current;
    lastEpoch.current = hostEpoch;
    if (hostEpoch === undefined || hostEpoch === was) return;
    const client = clientRef.current;
    if (client && client.state !== 'ready') client.reconnectNow();
  }, [hostEpoch]);

  // Becoming visible: fit to the now-real box and take the keyboard.
  useEffect(() => {
    if (!visible) return;
    const term = termRef.current;
    const fit = fitRef.current;
    const host = hostRef.current;
    if (!term || !fit || !host) return;
    const frame = requestAnimationFrame(() => {
      if (host.offsetWidth > 0 && host.offsetHeight > 0) {
        try {
          fit.fit();
        } catch {
          /* not laid out yet */
        }
      }
      term.focus();
    });
    return () => cancelAnimationFrame(frame);
  }, [visible]);

  const { state, role, message, exitCode } = status;
  return (
    <div className="lf-terminal" data-terminal-state={state} data-terminal-role={role ?? ''}>
      <div ref={hostRef} className="lf-terminal-screen" />
      {role === 'viewer' && state === 'ready' && (
        <div className="lf-terminal-badge" role="note">
          Read-only{message ? `: ${message}` : ''}
        </div>
      )}
      {state !== 'ready' && (
        <div className={`lf-terminal-overlay lf-terminal-${state}`} aria-live="polite">
          {state === 'connecting' && <p>Connecting…</p>}
          {state === 'reconnecting' && (
            <>
              <p>Reconnecting…</p>
              {message && <p className="lf-terminal-detail">{message}</p>}
            </>
          )}
          {state === 'closed' && (
            <>
              <p>{message ?? 'The terminal is closed.'}</p>
              <button type="button" className="primary" onClick={() => clientRef.current?.reconnectNow()}>
                {exitCode !== undefined ? 'Start a new shell' : 'Reconnect'}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

export default Terminal;
