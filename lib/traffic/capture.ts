/**
 * One traffic capture per session, started the first time the Traffic tab
 * asks (lazily: most sessions never open it). Each capture reads the output of
 * the driver's capture (EnvironmentDriver.capture: Docker runs a tcpdump sidecar
 * beside the hosts) through a parser into a bounded aggregate. Captures that
 * nobody asked about for a while stop reading (the driver may keep capturing,
 * and a later request replays what it kept).
 *
 * Hosts that joined a group before the capture started sent their IGMP
 * report before anyone listened, and the Docker bridge has no querier to make
 * them repeat it. So when a capture starts, each host's joined groups are read
 * once (PacketCapture.memberships) to seed the receivers.
 */
import type { Environment, EnvironmentDriver, PacketCapture } from '../environments/driver';
import { log as rootLog, type Logger } from '../base/log';
import { DEFAULT_LIMITS, TrafficAggregate, type AggregateLimits } from './aggregate';
import { TcpdumpParser, parseProcIgmp } from './parse';
import type { TrafficView } from './types';

export interface TrafficTarget {
  driver: EnvironmentDriver;
  env: Environment;
}

/** A target whose driver can capture. */
type CaptureTarget = TrafficTarget & { driver: Required<Pick<EnvironmentDriver, 'capture'>> };

/** What the Traffic tab says for an environment whose driver has no capture. */
export const NO_CAPTURE = "this environment's driver cannot capture traffic";

export interface CaptureOptions {
  log?: Logger;
  limits?: Partial<AggregateLimits>;
  /** How long a first request waits for the capture to start before answering "starting". */
  startWaitMs?: number;
  /** A capture nobody asked about for this long stops reading its stream. */
  idleMs?: number;
  now?: () => number;
}

const NAME_REFRESH_MS = 5_000;

class SessionCapture {
  aggregate: TrafficAggregate;
  private handle?: PacketCapture;
  private starting?: Promise<void>;
  /** Set by stop(): a start still under way then stops what it started. */
  private stopped = false;
  private names = new Map<string, string>();
  private namesAt = 0;
  private refreshing?: Promise<void>;
  state: 'idle' | 'starting' | 'capturing' | 'ended' | 'failed' = 'idle';
  problem?: string;
  since: number | null = null;
  lastAsked: number;

  constructor(
    readonly target: CaptureTarget,
    private opts: Required<Pick<CaptureOptions, 'now'>> & CaptureOptions,
    private log: Logger,
  ) {
    this.aggregate = new TrafficAggregate(opts.limits);
    this.lastAsked = opts.now();
  }

  /** Starts (or restarts after the stream ended) the capture; concurrent callers share one start. */
  start(): Promise<void> {
    if (this.state === 'capturing') return Promise.resolve();
    if (!this.starting) {
      this.starting = this.startNow().finally(() => (this.starting = undefined));
    }
    return this.starting;
  }

  private async startNow(): Promise<void> {
    const { driver, env } = this.target;
    this.state = 'starting';
    this.problem = undefined;
    this.stopped = false;
    const t0 = Date.now();
    // A fresh aggregate: the driver replays what its capture kept into it. It replaces the old
    // one only once the capture runs, so a failed restart still shows what was seen.
    const aggregate = new TrafficAggregate(this.opts.limits);
    const parser = new TcpdumpParser();
    try {
      await this.handle?.stop();
      const handle = await driver.capture(env, {
        onLine: (line) => {
          for (const ev of parser.push(line)) {
            aggregate.add(ev);
            if (!this.names.has(ev.src)) void this.refreshNames(false);
          }
        },
        onDiagnostic: (line) => this.onDiagnostic(line),
      });
      if (this.stopped) {
        await handle.stop();
        this.state = 'idle';
        return;
      }
      this.handle = handle;
      this.aggregate = aggregate;
      await this.refreshNames(true);
      this.state = 'capturing';
      this.since = this.opts.now();
      this.log.info({ owner: env.owner, ms: Date.now() - t0 }, 'traffic capture started');
      void handle.ended.then(() => {
        if (this.handle === handle && this.state === 'capturing') {
          this.state = 'ended';
          this.problem ??= 'the capture stopped (the environment may have been removed)';
          this.log.info({ owner: env.owner }, 'traffic capture ended');
        }
      });
      void this.seedMemberships(handle);
    } catch (err) {
      this.state = 'failed';
      this.problem = (err as Error).message;
      this.log.warn({ owner: env.owner, err: this.problem }, 'traffic capture failed to start');
    }
  }

  private onDiagnostic(line: string): void {
    // tcpdump's banner ("listening on eth0 ...") is expected; anything naming tcpdump is an error worth showing.
    if (/^tcpdump: /.test(line) && !/listening on|verbose output suppressed/.test(line)) {
      this.problem = line.replace(/^tcpdump: /, 'capture error: ');
      this.log.warn({ owner: this.target.env.owner, line }, 'tcpdump');
    }
  }

  /** Reads each host's joined groups once (see the module comment). Failures only cost receivers. */
  private async seedMemberships(handle: PacketCapture): Promise<void> {
    await Promise.all(
      this.target.env.hosts.map(async (h) => {
        const ip = [...this.names].find(([, name]) => name === h.name)?.[0] ?? h.address;
        if (!ip) return;
        const t = this.opts.now();
        const igmp = await handle.memberships(h.name).catch(() => null);
        if (igmp !== null) this.aggregate.applySnapshot(ip, parseProcIgmp(igmp), t);
      }),
    );
  }

  /** Re-reads the network's addresses when an unknown one shows up, at most every few seconds. */
  private refreshNames(force: boolean): Promise<void> {
    const now = this.opts.now();
    if (this.refreshing) return this.refreshing;
    // Lines replayed before the capture is handed over wait for the forced read that follows.
    if (!this.handle || (!force && now - this.namesAt < NAME_REFRESH_MS)) return Promise.resolve();
    this.namesAt = now;
    this.refreshing = this.handle
      .addresses()
      .then((m) => void (this.names = m))
      .catch((err: Error) => this.log.warn({ owner: this.target.env.owner, err: err.message }, 'reading host addresses failed'))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  view(): TrafficView {
    const now = this.opts.now();
    const { bucketMs, windowMs } = this.aggregate.limits;
    return {
      groups: this.aggregate.view((ip) => this.names.get(ip) ?? null, now),
      capturing: this.state === 'capturing',
      since: this.since,
      now,
      bucketMs,
      windowMs,
      ...(this.state === 'starting' ? { problem: 'starting the capture…' } : this.problem ? { problem: this.problem } : {}),
    };
  }

  /** Stops reading; resolves once the driver's capture is closed (also one still starting). */
  async stop(): Promise<void> {
    this.stopped = true;
    const handle = this.handle;
    this.handle = undefined;
    if (this.state === 'capturing') this.state = 'idle';
    await handle?.stop();
    await this.starting;
  }
}

/** Whether the driver can capture (by shape: Next bundles route handlers apart from the drivers). */
function canCapture(target: TrafficTarget): target is CaptureTarget {
  return typeof target.driver.capture === 'function';
}

/** All captures of this server process. */
export class TrafficCaptures {
  private captures = new Map<string, SessionCapture>();
  private log: Logger;
  private opts: Required<Pick<CaptureOptions, 'now' | 'startWaitMs' | 'idleMs'>> & CaptureOptions;
  private sweeper?: NodeJS.Timeout;

  constructor(opts: CaptureOptions = {}) {
    this.opts = { startWaitMs: 5_000, idleMs: 15 * 60_000, now: () => Date.now(), ...opts };
    this.log = (opts.log ?? rootLog).child({ module: 'traffic' });
  }

  /** The session's traffic; starts the capture on first use (waiting up to startWaitMs for it). */
  async view(target: TrafficTarget): Promise<TrafficView> {
    const now = this.opts.now();
    if (!canCapture(target)) return { groups: [], capturing: false, since: null, now, bucketMs: 0, windowMs: 0, problem: NO_CAPTURE };
    let c = this.captures.get(target.env.owner);
    if (!c) {
      c = new SessionCapture(target, this.opts, this.log);
      this.captures.set(target.env.owner, c);
      this.startSweeper();
    }
    c.lastAsked = now;
    if (c.state !== 'capturing') {
      const started = c.start();
      await Promise.race([started, new Promise((r) => setTimeout(r, this.opts.startWaitMs).unref())]);
    }
    return c.view();
  }

  /**
   * The session's traffic as far as a capture already runs, starting nothing (for GET: reading
   * must not start a capture). Without a capture: an empty view with `capturing: false`.
   */
  async peek(target: TrafficTarget): Promise<TrafficView> {
    if (!canCapture(target)) return this.view(target); // starts nothing there: says the driver cannot
    const now = this.opts.now();
    const c = this.captures.get(target.env.owner);
    if (c) {
      c.lastAsked = now; // polling keeps a capture someone watches from going idle
      return c.view();
    }
    const { bucketMs, windowMs } = { ...DEFAULT_LIMITS, ...this.opts.limits };
    return { groups: [], capturing: false, since: null, now, bucketMs, windowMs };
  }

  /** Stops reading a session's capture (what the driver runs for it goes with the environment). */
  forget(owner: string): Promise<void> {
    const c = this.captures.get(owner);
    this.captures.delete(owner);
    return c ? c.stop().catch((err: Error) => this.log.warn({ owner, err: err.message }, 'stopping a traffic capture failed')) : Promise.resolve();
  }

  /** Stops every capture (at shutdown); resolves once all are closed. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await Promise.all([...this.captures.keys()].map((owner) => this.forget(owner)));
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const now = this.opts.now();
      for (const [owner, c] of this.captures) {
        if (now - c.lastAsked > this.opts.idleMs || c.state === 'ended') void this.forget(owner);
      }
      if (!this.captures.size && this.sweeper) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, 60_000);
    this.sweeper.unref();
  }
}

const KEY = Symbol.for('labforge.traffic');

/** The process-wide captures (on globalThis: Next bundles route handlers apart from server.ts). */
export function trafficCaptures(): TrafficCaptures {
  const holder = globalThis as { [KEY]?: TrafficCaptures };
  return (holder[KEY] ??= new TrafficCaptures());
}
