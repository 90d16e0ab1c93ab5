/**
 * One traffic capture per session, started the first time the Traffic tab
 * asks (lazily: most sessions never open it). Each capture owns the session's
 * sidecar output stream, a parser and a bounded aggregate. Captures that
 * nobody asked about for a while stop reading (the sidecar keeps capturing
 * into its bounded log, and a later request replays it).
 *
 * Hosts that joined a group before the capture started sent their IGMP
 * report before anyone listened, and the Docker bridge has no querier to make
 * them repeat it. So when a capture starts, each host's /proc/net/igmp is read
 * once (a read-only `cat` through the driver) to seed the receivers.
 */
import type Dockerode from 'dockerode';
import { TOOLBOX_BIN, type Environment, type EnvironmentDriver } from '../environments/driver';
import { resolveImage } from '../environments/images/build';
import { log as rootLog, type Logger } from '../base/log';
import { DEFAULT_LIMITS, TrafficAggregate, type AggregateLimits } from './aggregate';
import { TcpdumpParser, parseProcIgmp } from './parse';
import { ensureSidecar, followSidecar, hostAddresses, removeWithHosts, type Follower } from './sidecar';
import type { TrafficView } from './types';

export interface TrafficTarget {
  driver: EnvironmentDriver;
  env: Environment;
}

/** What the capture needs from the Docker driver (duck-typed: Next bundles its own copy of the class). */
interface DockerLike {
  docker: Dockerode;
  instance?: string;
  images?: { ensure(image: string): Promise<string> };
}

function dockerOf(driver: EnvironmentDriver): DockerLike | null {
  const d = driver as unknown as Partial<DockerLike>;
  return driver.name === 'docker' && d.docker && typeof d.docker.createContainer === 'function' ? (d as DockerLike) : null;
}

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
  private parser = new TcpdumpParser();
  private follower?: Follower;
  private starting?: Promise<void>;
  private names = new Map<string, string>();
  private namesAt = 0;
  private refreshing?: Promise<void>;
  state: 'idle' | 'starting' | 'capturing' | 'ended' | 'failed' = 'idle';
  problem?: string;
  since: number | null = null;
  lastAsked: number;

  constructor(
    readonly target: TrafficTarget,
    private docker: DockerLike,
    private opts: Required<Pick<CaptureOptions, 'now'>> & CaptureOptions,
    private log: Logger,
    /** Called once the sidecar exists, so it is removed with the hosts. */
    private onSidecar: () => void,
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
    const { env } = this.target;
    this.state = 'starting';
    this.problem = undefined;
    const t0 = Date.now();
    try {
      const image = this.docker.images ? await this.docker.images.ensure('labforge/base') : resolveImage('labforge/base');
      const id = await ensureSidecar(this.docker.docker, env, image, this.docker.instance);
      this.onSidecar();
      // A fresh aggregate: the whole (bounded) log is replayed into it.
      this.aggregate = new TrafficAggregate(this.opts.limits);
      this.parser = new TcpdumpParser();
      await this.refreshNames(true);
      this.follower = await followSidecar(
        this.docker.docker,
        id,
        0,
        (line) => {
          for (const ev of this.parser.push(line)) {
            this.aggregate.add(ev);
            if (!this.names.has(ev.src)) void this.refreshNames(false);
          }
        },
        (line) => this.onStderr(line),
      );
      this.state = 'capturing';
      this.since = this.opts.now();
      this.log.info({ owner: env.owner, ms: Date.now() - t0 }, 'traffic capture started');
      const follower = this.follower;
      void follower.ended.then(() => {
        if (this.follower === follower && this.state === 'capturing') {
          this.state = 'ended';
          this.problem ??= 'the capture stopped (the environment may have been removed)';
          this.log.info({ owner: env.owner }, 'traffic capture ended');
        }
      });
      void this.seedMemberships();
    } catch (err) {
      this.state = 'failed';
      this.problem = (err as Error).message;
      this.log.warn({ owner: env.owner, err: this.problem }, 'traffic capture failed to start');
    }
  }

  private onStderr(line: string): void {
    // tcpdump's banner ("listening on eth0 ...") is expected; anything naming tcpdump is an error worth showing.
    if (/^tcpdump: /.test(line) && !/listening on|verbose output suppressed/.test(line)) {
      this.problem = line.replace(/^tcpdump: /, 'capture error: ');
      this.log.warn({ owner: this.target.env.owner, line }, 'tcpdump');
    }
  }

  /** Reads each host's joined groups once (see the module comment). Failures only cost receivers. */
  private async seedMemberships(): Promise<void> {
    const { driver, env } = this.target;
    await Promise.all(
      env.hosts.map(async (h) => {
        const ip = [...this.names].find(([, name]) => name === h.name)?.[0] ?? h.address;
        if (!ip) return;
        const t = this.opts.now();
        // The toolbox's cat by its path: never a program the learner could have planted.
        const r = await driver.exec(env, h.name, [`${TOOLBOX_BIN}/cat`, '/proc/net/igmp'], { timeoutMs: 5_000 }).catch(() => null);
        if (r?.exitCode === 0) this.aggregate.applySnapshot(ip, parseProcIgmp(r.stdout), t);
      }),
    );
  }

  /** Re-reads the network's addresses when an unknown one shows up, at most every few seconds. */
  private refreshNames(force: boolean): Promise<void> {
    const now = this.opts.now();
    if (this.refreshing) return this.refreshing;
    if (!force && now - this.namesAt < NAME_REFRESH_MS) return Promise.resolve();
    this.namesAt = now;
    this.refreshing = hostAddresses(this.docker.docker, this.target.env)
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

  stop(): void {
    this.follower?.stop();
    this.follower = undefined;
    if (this.state === 'capturing') this.state = 'idle';
  }
}

/** All captures of this server process. */
export class TrafficCaptures {
  private captures = new Map<string, SessionCapture>();
  private log: Logger;
  private opts: Required<Pick<CaptureOptions, 'now' | 'startWaitMs' | 'idleMs'>> & CaptureOptions;
  private sweeper?: NodeJS.Timeout;
  /** Per owner: removes the sidecar when the hosts go; outlives idle captures, ends with the session. */
  private watchers = new Map<string, Promise<{ stop(): void }>>();

  constructor(opts: CaptureOptions = {}) {
    this.opts = { startWaitMs: 5_000, idleMs: 15 * 60_000, now: () => Date.now(), ...opts };
    this.log = (opts.log ?? rootLog).child({ module: 'traffic' });
  }

  /** The session's traffic; starts the capture on first use (waiting up to startWaitMs for it). */
  async view(target: TrafficTarget): Promise<TrafficView> {
    const docker = dockerOf(target.driver);
    const now = this.opts.now();
    if (!docker) {
      return {
        groups: [],
        capturing: false,
        since: null,
        now,
        bucketMs: 0,
        windowMs: 0,
        problem: `traffic capture is not available for ${target.driver.name} environments yet`,
      };
    }
    let c = this.captures.get(target.env.owner);
    if (!c) {
      c = new SessionCapture(target, docker, this.opts, this.log, () => this.watch(docker, target.env));
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
   * must not create a sidecar). Without a capture: an empty view with `capturing: false`.
   */
  async peek(target: TrafficTarget): Promise<TrafficView> {
    if (!dockerOf(target.driver)) return this.view(target); // starts nothing there: says "not available"
    const now = this.opts.now();
    const c = this.captures.get(target.env.owner);
    if (c) {
      c.lastAsked = now; // polling keeps a capture someone watches from going idle
      return c.view();
    }
    const { bucketMs, windowMs } = { ...DEFAULT_LIMITS, ...this.opts.limits };
    return { groups: [], capturing: false, since: null, now, bucketMs, windowMs };
  }

  /** Stops reading a session's capture (the sidecar itself goes with the environment). */
  forget(owner: string): void {
    this.captures.get(owner)?.stop();
    this.captures.delete(owner);
  }

  close(): void {
    for (const owner of [...this.captures.keys()]) this.forget(owner);
    for (const w of this.watchers.values()) void w.then((x) => x.stop()).catch(() => undefined);
    this.watchers.clear();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private watch(docker: DockerLike, env: Environment): void {
    if (this.watchers.has(env.owner)) return;
    const w = removeWithHosts(docker.docker, env, () => this.watchers.delete(env.owner));
    this.watchers.set(env.owner, w);
    w.catch((err: Error) => {
      this.watchers.delete(env.owner);
      this.log.warn(
        { owner: env.owner, err: err.message },
        'cannot watch the environment: the capture container is removed only by destroyOwner or the reconciler',
      );
    });
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const now = this.opts.now();
      for (const [owner, c] of this.captures) {
        if (now - c.lastAsked > this.opts.idleMs || c.state === 'ended') this.forget(owner);
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
