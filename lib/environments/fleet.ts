/**
 * A fleet of Docker engines behind the one `docker` driver name (LABFORGE_DOCKER_ENGINES):
 * each engine is a DockerDriver of its own, and this driver places each new environment on the
 * engine with the fewest running lab containers per CPU, among those that answer now (creations
 * still under way count too, so a burst spreads instead of piling onto the engine that looked
 * idle). The environment record names its engine (`meta.engine`), and every later call goes there.
 *
 * An engine that stops answering takes no new environments at once. Its sessions are left alone
 * for `downAfterMs` (an engine restart is not an outage: its hosts come back stopped, and the
 * learner restarts them, as on one engine); past that, `hosts()` reports each of their hosts gone,
 * with the engine and the time it went silent, so the watch pass fails them with that reason.
 */
import { log as rootLog } from '../base/log';
import { withTimeout } from '../base/timeout';
import type { EngineLoad } from './docker/resources';
import {
  EnvironmentError,
  type CaptureSink,
  type Datagrams,
  type Environment,
  type EnvironmentDriver,
  type EnvironmentSpec,
  type ExecOptions,
  type FoundEnvironment,
  type HostState,
  type PacketCapture,
  type Problem,
  type ProgressFn,
  type ReadOptions,
  type TerminalOptions,
} from './driver';
import type { LabEnvironment } from '../labs/schema';

const log = rootLog.child({ module: 'fleet' });

/** One engine of the fleet: a Docker driver on its own engine (or a test double). */
export interface FleetEngine {
  name: string;
  driver: EnvironmentDriver & Required<Pick<EnvironmentDriver, 'hosts'>> & { ping(): Promise<void>; load(): Promise<EngineLoad> };
}

export interface EngineStatus {
  name: string;
  up: boolean;
  /** Why not, when down: the engine's own error. */
  reason?: string;
  /** Since when it has not answered (ms since the epoch), when down. */
  downSince?: number;
  load?: EngineLoad;
  /** Environments being created on it right now. */
  creating: number;
}

/** How long a ping may take before the engine counts as not answering. */
const PING_TIMEOUT_MS = 5_000;

export class DockerFleet implements EnvironmentDriver {
  readonly name = 'docker';
  private readonly engines: FleetEngine[];
  private readonly downAfterMs: number;
  private readonly now: () => number;
  /** First failed answer of each engine that is not answering now. */
  private readonly down = new Map<string, { since: number; reason: string }>();
  /** Hosts of environments being created, per engine (placement counts them as running). */
  private readonly creating = new Map<string, number>();
  /** Placements one at a time: each sees the creations the one before it started. */
  private placing: Promise<unknown> = Promise.resolve();

  constructor(engines: FleetEngine[], opts: { downAfterMs?: number; now?: () => number } = {}) {
    if (!engines.length) throw new EnvironmentError('a fleet needs at least one Docker engine');
    this.engines = engines;
    this.downAfterMs = opts.downAfterMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The engine an environment lives on; records made before the fleet live on the first one. */
  private engineOf(env: Environment): FleetEngine {
    const name = env.meta.engine;
    if (!name) return this.engines[0];
    const engine = this.engines.find((e) => e.name === name);
    if (!engine)
      throw new EnvironmentError(
        `this environment is on the Docker engine "${name}", which is no longer configured (LABFORGE_DOCKER_ENGINES: ${this.engines.map((e) => e.name).join(', ')})`,
      );
    return engine;
  }

  private noted(engine: FleetEngine, err: unknown): void {
    const reason = (err as Error)?.message ?? String(err);
    if (!this.down.has(engine.name)) {
      this.down.set(engine.name, { since: this.now(), reason });
      log.warn({ engine: engine.name, reason }, 'Docker engine not answering: it takes no new environments');
    }
  }

  private answered(engine: FleetEngine): void {
    if (this.down.delete(engine.name)) log.info({ engine: engine.name }, 'Docker engine answers again');
  }

  private async answers(engine: FleetEngine): Promise<boolean> {
    try {
      await withTimeout(engine.driver.ping(), PING_TIMEOUT_MS, 'a ping');
      this.answered(engine);
      return true;
    } catch (err) {
      this.noted(engine, err);
      return false;
    }
  }

  /** Every engine: whether it answers now, and how busy it is (operators, metrics, placement). */
  async status(): Promise<EngineStatus[]> {
    return Promise.all(
      this.engines.map(async (engine): Promise<EngineStatus> => {
        const creating = this.creating.get(engine.name) ?? 0;
        const load = (await this.answers(engine)) ? await engine.driver.load().catch((err) => void this.noted(engine, err)) : undefined;
        if (load) return { name: engine.name, up: true, load, creating };
        const down = this.down.get(engine.name);
        return { name: engine.name, up: false, reason: down?.reason, downSince: down?.since, creating };
      }),
    );
  }

  /** The engine for a new environment: the least busy per CPU of those that answer; ties go to the one listed first. */
  async place(): Promise<FleetEngine> {
    const statuses = await this.status();
    let best: { engine: FleetEngine; score: number } | undefined;
    for (const s of statuses) {
      if (!s.up || !s.load) continue;
      const score = (s.load.labContainers + s.creating) / s.load.cpus;
      if (!best || score < best.score) best = { engine: this.engines.find((e) => e.name === s.name)!, score };
    }
    if (!best)
      throw new EnvironmentError(
        `no Docker engine answers: ${statuses.map((s) => `${s.name} (${s.reason ?? 'unknown'})`).join('; ')}`,
        'start one of them, or fix LABFORGE_DOCKER_ENGINES',
      );
    return best.engine;
  }

  async prerequisites(environment?: LabEnvironment): Promise<Problem[]> {
    const all = await Promise.all(this.engines.map(async (e) => ({ e, problems: await e.driver.prerequisites(environment) })));
    // One ready engine is enough: new environments go there.
    if (all.some((x) => !x.problems.length)) return [];
    return all.flatMap(({ e, problems }) => problems.map((p) => ({ ...p, what: `engine ${e.name}: ${p.what}` })));
  }

  async ping(): Promise<void> {
    const answered = await Promise.all(this.engines.map((e) => this.answers(e)));
    if (!answered.some(Boolean)) throw new EnvironmentError(`no Docker engine answers: ${[...this.down].map(([n, d]) => `${n} (${d.reason})`).join('; ')}`);
  }

  async create(spec: EnvironmentSpec, progress: ProgressFn, signal?: AbortSignal): Promise<Environment> {
    const hosts = spec.environment.hosts.length;
    const placed = this.placing.then(async () => {
      const engine = await this.place();
      this.creating.set(engine.name, (this.creating.get(engine.name) ?? 0) + hosts);
      return engine;
    });
    this.placing = placed.catch(() => undefined);
    const engine = await placed;
    log.info({ owner: spec.owner, engine: engine.name }, 'placing environment');
    try {
      const env = await engine.driver.create(spec, progress, signal);
      return { ...env, meta: { ...env.meta, engine: engine.name } };
    } catch (err) {
      if (err instanceof EnvironmentError) throw new EnvironmentError(`on Docker engine ${engine.name}: ${err.message}`, err.hint);
      throw err;
    } finally {
      this.creating.set(engine.name, (this.creating.get(engine.name) ?? hosts) - hosts);
    }
  }

  async exec(env: Environment, host: string, argv: string[], opts?: ExecOptions) {
    return this.engineOf(env).driver.exec(env, host, argv, opts);
  }
  async readFile(env: Environment, host: string, file: string, opts?: ReadOptions) {
    return this.engineOf(env).driver.readFile(env, host, file, opts);
  }
  async writeFile(env: Environment, host: string, file: string, content: Buffer | string, mode?: number) {
    return this.engineOf(env).driver.writeFile(env, host, file, content, mode);
  }
  async openTerminal(env: Environment, host: string, opts: TerminalOptions) {
    return this.engineOf(env).driver.openTerminal(env, host, opts);
  }
  async closeTerminal(env: Environment, host: string, terminalId: string) {
    return this.engineOf(env).driver.closeTerminal(env, host, terminalId);
  }
  async inject(env: Environment, source: string, datagrams: Datagrams) {
    return this.engineOf(env).driver.inject(env, source, datagrams);
  }
  async capture(env: Environment, sink: CaptureSink): Promise<PacketCapture> {
    const driver = this.engineOf(env).driver;
    if (!driver.capture) throw new EnvironmentError('this engine cannot capture traffic');
    return driver.capture(env, sink);
  }
  async health(env: Environment) {
    return this.engineOf(env).driver.health(env);
  }

  /**
   * The hosts as their engine sees them. An engine that does not answer throws (the watch pass
   * then changes nothing) until it has been silent for `downAfterMs`; then every host is `gone`,
   * saying which engine went silent and when, and the session fails with that reason.
   */
  async hosts(env: Environment): Promise<HostState[]> {
    const engine = this.engineOf(env);
    try {
      const states = await engine.driver.hosts(env);
      this.answered(engine);
      return states;
    } catch (err) {
      if (await this.answers(engine)) throw err; // the engine is fine: that error is the host's own
      const down = this.down.get(engine.name)!;
      if (this.now() - down.since < this.downAfterMs) throw err;
      const at = new Date(down.since).toISOString().slice(11, 16);
      const reason = `its Docker engine "${engine.name}" has not answered since ${at} UTC: ${down.reason}`;
      return env.hosts.map((h) => ({ host: h.name, state: 'gone' as const, reason }));
    }
  }

  async restartHost(env: Environment, host: string) {
    const driver = this.engineOf(env).driver;
    if (!driver.restartHost) throw new EnvironmentError('this engine cannot restart hosts');
    return driver.restartHost(env, host);
  }
  async destroy(env: Environment) {
    return this.engineOf(env).driver.destroy(env);
  }
  async limits(env: Environment) {
    const driver = this.engineOf(env).driver;
    return driver.limits ? driver.limits(env) : [];
  }
  async containHost(env: Environment, host: string) {
    const driver = this.engineOf(env).driver;
    if (driver.containHost) await driver.containHost(env, host);
  }

  /** What every answering engine holds; a silent one is skipped (its leftovers are found once it answers again). */
  async list(): Promise<FoundEnvironment[]> {
    const lists = await Promise.all(
      this.engines.map((e) =>
        e.driver.list().catch((err) => {
          this.noted(e, err);
          return [];
        }),
      ),
    );
    return lists.flat();
  }

  /** On every engine that answers: the reconciler knows owners, not engines. */
  async destroyOwner(owner: string): Promise<void> {
    const answering = (await Promise.all(this.engines.map(async (e) => ((await this.answers(e)) ? e : undefined)))).filter((e) => e !== undefined);
    await Promise.all(answering.map((e) => e.driver.destroyOwner(owner)));
  }
}

/**
 * The engines behind a `docker` driver, for metrics: a fleet's, or the one engine of a plain
 * Docker driver (named `default`); none for a driver that is not on Docker.
 */
export async function engineStatuses(driver: EnvironmentDriver | undefined): Promise<EngineStatus[]> {
  if (!driver) return [];
  if (driver instanceof DockerFleet) return driver.status();
  const engine = driver as Partial<FleetEngine['driver']>;
  if (!engine.ping || !engine.load || !engine.hosts) return [];
  // Read through a fleet of one, kept per driver: the same probe, and a warning only when it changes.
  let one = fleetsOfOne.get(driver);
  if (!one) fleetsOfOne.set(driver, (one = new DockerFleet([{ name: 'default', driver: engine as FleetEngine['driver'] }])));
  return one.status();
}
const fleetsOfOne = new WeakMap<EnvironmentDriver, DockerFleet>();
