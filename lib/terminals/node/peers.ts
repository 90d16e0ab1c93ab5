/**
 * The sockets attached to one terminal: what each was sent and has acked (stream
 * offsets), and which one holds the keyboard. Several windows may watch a
 * terminal; the newest owner-capable one types, the others are viewers.
 */
import type { WebSocket } from 'ws';
import { encodeStatus, type Role, type Status } from '../common/protocol';
import type { Logger } from '../../base/log';

/** One attached socket. */
export class Peer {
  /** Sent its HELLO (it may still wait for the shell to start). */
  hello = false;
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

export class Peers {
  private readonly all = new Set<Peer>();
  private current: Peer | undefined;
  private seq = 0;

  constructor(private readonly log: Logger) {}

  get owner(): Peer | undefined {
    return this.current;
  }

  get size(): number {
    return this.all.size;
  }

  has(peer: Peer): boolean {
    return this.all.has(peer);
  }

  [Symbol.iterator](): IterableIterator<Peer> {
    return this.all.values();
  }

  add(ws: WebSocket, role: Role): Peer {
    const peer = new Peer(ws, role === 'owner', ++this.seq);
    this.all.add(peer);
    return peer;
  }

  /** The newest owner-capable socket types; the one it replaces becomes a viewer. False when it already owned. */
  takeOwnership(peer: Peer): boolean {
    const previous = this.current;
    if (previous === peer) return false;
    this.current = peer;
    if (previous && this.all.has(previous)) {
      sendStatus(previous.ws, { type: 'role', role: 'viewer', reason: 'This terminal is now controlled from another window; this one is read-only.' });
      this.log.info('terminal ownership moved to a newer window');
    }
    return true;
  }

  /**
   * Forgets a socket. An owner leaving hands the keyboard back to the most recent
   * remaining owner-capable window. Returns undefined when it was not attached.
   */
  remove(peer: Peer): { wasOwner: boolean } | undefined {
    if (!this.all.delete(peer)) return undefined;
    clearTimeout(peer.helloTimer);
    if (peer !== this.current) return { wasOwner: false };
    let next: Peer | undefined;
    for (const p of this.all) if (p.mayOwn && p.ready && (!next || p.seq > next.seq)) next = p;
    this.current = next;
    if (next) sendStatus(next.ws, { type: 'role', role: 'owner', reason: 'The other window closed; you can type here again.' });
    return { wasOwner: true };
  }
}

/** Status texts have length limits (protocol.ts): a long error must not become a protocol error. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Sends when open; `written` runs once the socket is done with `bytes` (written or failed). */
export function send(ws: WebSocket, bytes: Uint8Array, written?: () => void): boolean {
  if (ws.readyState !== ws.OPEN) return false;
  ws.send(bytes, written);
  return true;
}

export function sendStatus(ws: WebSocket, status: Status): void {
  send(ws, encodeStatus(status));
}
