/**
 * Notices a dead link from the browser side: a socket can stay "open" for
 * minutes after the network went away (a laptop lid, a proxy), with no close
 * event. When nothing arrived for a while the client pings (PING/PONG in
 * protocol.ts), and gives the socket up when the answer does not come.
 */
import { encodePing } from './protocol';

/** What liveness needs of a socket (client.ts's SocketLike has it). */
export interface PingableSocket {
  readonly readyState: number;
  send(data: Uint8Array): void;
}

/** Ping when nothing arrived for idleMs; drop the socket when the answer takes deadMs. */
export const DEFAULT_LIVENESS = { idleMs: 15_000, deadMs: 10_000, checkEveryMs: 2_500 };
export type LivenessTuning = typeof DEFAULT_LIVENESS;

const OPEN = 1;

export class Liveness<S extends PingableSocket> {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private pingSentAt: number | undefined;
  private nonce = 0;

  constructor(
    private readonly tuning: LivenessTuning,
    /** The socket did not answer in time: drop it (`why` is for the learner). */
    private readonly dead: (ws: S, why: string) => void,
  ) {}

  /** Watches a socket that just opened, for as long as `current()` says it is the one in use. */
  watch(ws: S, current: () => boolean): void {
    this.stop();
    this.lastMessageAt = Date.now();
    this.pingSentAt = undefined;
    this.timer = setInterval(() => {
      if (!current() || ws.readyState !== OPEN) return;
      const now = Date.now();
      if (this.pingSentAt !== undefined) {
        if (now - this.pingSentAt > this.tuning.deadMs) this.dead(ws, `no answer for ${Math.round((now - this.pingSentAt) / 1000)} s`);
      } else if (now - this.lastMessageAt > this.tuning.idleMs) this.ping(ws);
    }, this.tuning.checkEveryMs);
  }

  /** Something arrived: the link is alive (any frame answers a ping). */
  heard(): void {
    this.lastMessageAt = Date.now();
    this.pingSentAt = undefined;
  }

  /** Checks the link now, unless a ping is already on its way. */
  poke(ws: S): void {
    if (this.pingSentAt === undefined) this.ping(ws);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private ping(ws: S): void {
    this.pingSentAt = Date.now();
    ws.send(encodePing(++this.nonce));
  }
}
