/**
 * A terminal socket that reached a replica other than the one running its terminal is carried
 * there: this replica has upgraded the browser's socket, opens one to the holder with a token of
 * the same claims (the token table is shared by replicas), and passes every frame both ways as it
 * is. The holder does the rest as for any socket (roles, flow control: the browser's ACKs pass
 * through, so a slow screen still pauses the shell; the socket limit). When the upstream goes, the
 * browser's socket closes with "try again" and the client reconnects, perhaps here, and if the
 * holder is gone, the terminal then starts here (terminal.ts: the client keeps its screen).
 */
import WebSocket, { type RawData } from 'ws';
import type { Logger } from '../../base/log';
import { CLOSE, WS_PATH } from '../common/protocol';

/** Frames the browser may send while the upstream connects; past them, the relay gives up. */
const MAX_PENDING = 256;

/** Close codes a server may send on: others (1005, 1006: no code, connection lost) become "try again". */
const sendable = (code: number) => code === CLOSE.normal || code === CLOSE.goingAway || code === CLOSE.protocolError || (code >= 3000 && code <= 4999);

/** `token`: issued with the client's claims plus `relayed` (tokens.ts), so the holder serves the socket itself. */
export function relay(client: WebSocket, holderUrl: string, token: string, log: Logger): void {
  const url = `${holderUrl.replace(/^http/, 'ws')}${WS_PATH}?token=${encodeURIComponent(token)}`;
  const up = new WebSocket(url, { perMessageDeflate: false });
  const pending: Array<[RawData, boolean]> = [];
  const end = (code: number, reason: string) => {
    if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING)
      client.close(sendable(code) ? code : CLOSE.tryAgain, reason.slice(0, 120));
  };

  client.on('message', (data, binary) => {
    if (up.readyState === WebSocket.OPEN) return up.send(data, { binary });
    if (pending.length >= MAX_PENDING) return end(CLOSE.tryAgain, 'try again');
    pending.push([data, binary]);
  });
  client.on('close', () => (up.readyState === WebSocket.CONNECTING ? up.terminate() : up.close()));
  client.on('error', () => up.terminate());

  up.on('open', () => {
    for (const [data, binary] of pending) up.send(data, { binary });
    pending.length = 0;
  });
  up.on('message', (data, binary) => {
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
  });
  up.on('close', (code, reason) => end(code, reason.toString() || 'try again'));
  up.on('unexpected-response', (_req, res) => {
    log.warn({ holder: holderUrl, status: res.statusCode }, 'terminal relay refused by the replica running it');
    up.terminate();
    end(CLOSE.tryAgain, 'try again');
  });
  up.on('error', (err) => {
    log.warn({ holder: holderUrl, err: err.message }, 'terminal relay could not reach the replica running it');
    end(CLOSE.tryAgain, 'try again');
  });
}
