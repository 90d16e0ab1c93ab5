/**
 * The platform's Prometheus metrics (GET /metrics, lib/http/probes.ts), with prom-client. Events
 * are recorded as they happen (provisioning and Checks, through SessionObserver); levels (sessions
 * by state, queues, pools, capacity, terminals) are read from their sources at scrape time, so a
 * replica reports what it holds now and nothing is kept in step by hand.
 *
 * Labels are bounded: lab and challenge slugs come from the catalog (a lab it no longer has is
 * `_other`), states and outcomes from fixed lists; never a session, learner or request value.
 * One registry per server (not prom-client's global one), so tests and `labforge dev` get their own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionObserver } from '../sessions/deps';
import type { SessionCounts } from './session-counts';

/** What the gauges read at scrape time; each is cheap or cached by its owner. */
export interface MetricSources {
  sessions(): Promise<SessionCounts>;
  /** The capacity budget (capacity.ts): environments when LABFORGE_MAX_ENVIRONMENTS is set, else MiB of declared memory. */
  capacity(): { used: number; limit: number; unit: 'environments' | 'mebibytes'; environments: number };
  /** Waiting for room (capacity), for a turn to be prepared (provisioning limiter, pool refills included), for a Check slot. */
  queues(): { room: number; turn: number; checks: number };
  /** Warm-pool members per lab (with replicas, the shared pool's rows). */
  pools(): Promise<Array<{ lab: string; size: number; ready: number; creating: number }>>;
  terminals(): { terminals: number; sockets: number };
  /** The Docker engines (one, or a fleet's): whether each answers, and its size and load. */
  engines?(): Promise<Array<{ name: string; up: boolean; load?: { cpus: number; memoryBytes: number; labContainers: number } }>>;
  /** The job queue (lib/jobs/): jobs waiting and running, per queue, across every replica when it is in the database. */
  jobs?(): Promise<Array<{ queue: string; queued: number; active: number }>>;
  /** Replicas of this database seen recently (lib/replicas/registry.ts). */
  replicas?(): Promise<number>;
  /** The outboxes (webhook deliveries, LTI score passbacks): items by state (lib/webhooks/outbox-status.ts). */
  deliveries?(): Promise<Array<{ outbox: string; waiting: number; retrying: number; givenUp: number }>>;
}

export interface MetricsOptions {
  /** Whether the catalog has this lab now: any other lab label becomes `_other`. */
  isLab: (slug: string) => boolean;
  /** prom-client's process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Told when a source fails (the scrape goes on without it). */
  onSourceError?: (source: string, err: Error) => void;
}

export const OTHER_LAB = '_other';
/** Seconds: warm claims take about one, cold Docker labs tens, Kind clusters minutes. */
const PROVISION_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200];
/** Seconds from the press to the verdict: a quiz is milliseconds, a check script seconds, a queue more. */
const CHECK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

export class Metrics implements SessionObserver {
  readonly registry = new Registry();
  private readonly provisioning: Histogram<'lab' | 'outcome' | 'source'>;
  private readonly checks: Counter<'lab' | 'challenge' | 'result'>;
  private readonly checkSeconds: Histogram<'lab' | 'result'>;
  private readonly sourceErrors: Counter<'source'>;
  private readonly refreshers: Array<() => Promise<void>>;

  constructor(
    private readonly sources: MetricSources,
    private readonly opts: MetricsOptions,
  ) {
    const registers = [this.registry];
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.provisioning = new Histogram({
      name: 'labforge_provisioning_duration_seconds',
      help: 'From a session start to active (or its failure), waiting for room and turn included',
      labelNames: ['lab', 'outcome', 'source'],
      buckets: PROVISION_BUCKETS,
      registers,
    });
    this.checks = new Counter({
      name: 'labforge_checks_total',
      help: 'Checks and quiz answers judged, by verdict (error: the check could not run)',
      labelNames: ['lab', 'challenge', 'result'],
      registers,
    });
    this.checkSeconds = new Histogram({
      name: 'labforge_check_duration_seconds',
      help: 'From a Check press to its verdict, waiting for a check slot included',
      labelNames: ['lab', 'result'],
      buckets: CHECK_BUCKETS,
      registers,
    });
    this.sourceErrors = new Counter({
      name: 'labforge_metrics_source_errors_total',
      help: 'Scrapes that could not read a source (its gauges are left out of that scrape)',
      labelNames: ['source'],
      registers,
    });
    this.refreshers = this.levels(registers);
  }

  provisioned(e: Parameters<SessionObserver['provisioned']>[0]): void {
    this.provisioning.observe({ lab: this.lab(e.lab), outcome: e.outcome, source: e.warm ? 'warm' : 'cold' }, e.ms / 1000);
  }

  checked(e: Parameters<SessionObserver['checked']>[0]): void {
    const lab = this.lab(e.lab);
    // Challenge slugs are bounded by their lab's (the catalog's); with a lab it does not have, both fold into _other.
    this.checks.inc({ lab, challenge: lab === OTHER_LAB ? OTHER_LAB : e.challenge, result: e.result });
    this.checkSeconds.observe({ lab, result: e.result }, e.ms / 1000);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.refreshers.map((refresh) => refresh()));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private lab(slug: string): string {
    return this.opts.isLab(slug) ? slug : OTHER_LAB;
  }

  /**
   * Gauges whose values are read from their sources by scrape(), before the registry is
   * serialized (prom-client serializes every metric at once, so a gauge filled by its own
   * collect() could race the error counter). A failing source leaves its gauges empty.
   */
  private levels(registers: Registry[]): Array<() => Promise<void>> {
    const refreshers: Array<() => Promise<void>> = [];
    const source = <T>(name: string, get: () => T | Promise<T>, fill: (v: T) => void, gauges: Gauge[]) =>
      refreshers.push(async () => {
        let value: T;
        try {
          value = await get();
        } catch (e) {
          this.sourceErrors.inc({ source: name });
          this.opts.onSourceError?.(name, e as Error);
          for (const g of gauges) g.reset();
          return;
        }
        for (const g of gauges) g.reset();
        fill(value);
      });
    const gauge = <L extends string = never>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers });

    const sessions = gauge('labforge_sessions', 'Sessions in the database by state (all labs, ended ones included)', ['state']);
    const live = gauge('labforge_live_sessions', 'Live sessions (provisioning or active) by lab and state', ['lab', 'state']);
    source(
      'sessions',
      () => this.sources.sessions(),
      (c) => {
        for (const [state, n] of Object.entries(c.byState)) sessions.set({ state }, n);
        for (const row of c.live) live.inc({ lab: this.lab(row.lab), state: row.state }, row.count);
      },
      [sessions, live],
    );

    const used = gauge('labforge_capacity_used', 'Capacity held by environments (sessions and warm-pool members), in `unit`', ['unit']);
    const limit = gauge('labforge_capacity_limit', 'Capacity of this server, in `unit`', ['unit']);
    const environments = gauge('labforge_environments', 'Environments holding capacity (sessions and warm-pool members)');
    source(
      'capacity',
      () => this.sources.capacity(),
      (c) => {
        used.set({ unit: c.unit }, c.used);
        limit.set({ unit: c.unit }, c.limit);
        environments.set(c.environments);
      },
      [used, limit, environments],
    );

    const queue = gauge('labforge_provisioning_queue_depth', 'Sessions waiting for room (capacity) or for their turn to be prepared', ['waiting_for']);
    const checkQueue = gauge('labforge_check_queue_depth', 'Checks waiting for a free check slot');
    source(
      'queues',
      () => this.sources.queues(),
      (q) => {
        queue.set({ waiting_for: 'room' }, q.room);
        queue.set({ waiting_for: 'turn' }, q.turn);
        checkQueue.set(q.checks);
      },
      [queue, checkQueue],
    );

    const pool = gauge('labforge_pool_environments', 'Warm-pool members by lab and state', ['lab', 'state']);
    const poolTarget = gauge('labforge_pool_target_size', 'Warm-pool size each lab is kept at (LABFORGE_POOL)', ['lab']);
    source(
      'pools',
      () => this.sources.pools(),
      (labs) => {
        for (const p of labs) {
          pool.inc({ lab: this.lab(p.lab), state: 'ready' }, p.ready);
          pool.inc({ lab: this.lab(p.lab), state: 'creating' }, p.creating);
          poolTarget.inc({ lab: this.lab(p.lab) }, p.size);
        }
      },
      [pool, poolTarget],
    );

    const terminals = gauge('labforge_terminals_open', 'Terminals whose shell is alive, in their grace period too');
    const sockets = gauge('labforge_terminal_sockets_open', 'Terminal WebSockets open (learners and watching instructors)');
    source(
      'terminals',
      () => this.sources.terminals(),
      (t) => {
        terminals.set(t.terminals);
        sockets.set(t.sockets);
      },
      [terminals, sockets],
    );

    const engineUp = gauge('labforge_docker_engine_up', 'Whether each Docker engine answers (1) or not (0); a silent one takes no new environments', [
      'engine',
    ]);
    const engineCpus = gauge('labforge_docker_engine_cpus', 'CPUs each answering Docker engine reports', ['engine']);
    const engineMemory = gauge('labforge_docker_engine_memory_bytes', 'Memory each answering Docker engine reports', ['engine']);
    const engineContainers = gauge('labforge_docker_engine_lab_containers', 'Running Labforge containers (hosts and sidecars) on each answering engine', [
      'engine',
    ]);
    const engines = this.sources.engines?.bind(this.sources);
    if (engines)
      source(
        'engines',
        engines,
        (list) => {
          for (const e of list) {
            engineUp.set({ engine: e.name }, e.up ? 1 : 0);
            if (!e.load) continue;
            engineCpus.set({ engine: e.name }, e.load.cpus);
            engineMemory.set({ engine: e.name }, e.load.memoryBytes);
            engineContainers.set({ engine: e.name }, e.load.labContainers);
          }
        },
        [engineUp, engineCpus, engineMemory, engineContainers],
      );
    const jobs = gauge('labforge_jobs', 'Jobs by queue (provision) and state: queued (waiting for a replica, retries included) or active', ['queue', 'state']);
    const jobSource = this.sources.jobs?.bind(this.sources);
    if (jobSource)
      source(
        'jobs',
        jobSource,
        (list) => {
          for (const q of list) {
            jobs.set({ queue: q.queue, state: 'queued' }, q.queued);
            jobs.set({ queue: q.queue, state: 'active' }, q.active);
          }
        },
        [jobs],
      );
    const replicas = gauge('labforge_replicas', 'Server processes of this database seen recently (heartbeats)');
    const replicaSource = this.sources.replicas?.bind(this.sources);
    if (replicaSource) source('replicas', replicaSource, (n) => replicas.set(n), [replicas]);
    const deliveries = gauge('labforge_deliveries', 'Outbox items (webhooks, lti-scores) by state: waiting, retrying, given_up', ['outbox', 'state']);
    const deliverySource = this.sources.deliveries?.bind(this.sources);
    if (deliverySource)
      source(
        'deliveries',
        deliverySource,
        (list) => {
          for (const o of list) {
            deliveries.set({ outbox: o.outbox, state: 'waiting' }, o.waiting);
            deliveries.set({ outbox: o.outbox, state: 'retrying' }, o.retrying);
            deliveries.set({ outbox: o.outbox, state: 'given_up' }, o.givenUp);
          }
        },
        [deliveries],
      );
    return refreshers;
  }
}
