/**
 * The composition of every service of a running Labforge, in boot order: database (migrated) →
 * replica registered (lib/replicas/) → labs → drivers → job queue (lib/jobs/) → admission
 * (capacity, warm pools) → metrics and readiness → sessions (resumed) → saved terminal
 * screens swept → reconciler → terminal gateway and service proxy → background passes (and the
 * webhook dispatcher, lib/webhooks/, which polls on its own to send new events within a second). `close()`
 * stops them in the reverse order. server.ts adds only HTTP: Next, and routing of requests and
 * upgrades to what this returns.
 */
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../base/config';
import { log } from '../base/log';
import { Limiter, machineLimits } from '../base/limiter';
import { bootstrapAdmin } from '../accounts/bootstrap';
import { TokenStore } from '../auth/tokens';
import { createDb, migrate } from '../db/client';
import { providerOf } from '../db/provider';
import { AdvisoryLocks } from '../db/locks';
import { sharedSetting } from '../db/settings';
import { createDrivers } from '../environments';
import { DockerFleet } from '../environments/fleet';
import { createCapacity } from '../environments/capacity';
import type { Lab } from '../labs/schema';
import type { Environment } from '../environments/driver';
import { WarmPool } from '../environments/pool/pool';
import { SharedPool } from '../environments/pool/shared';
import { InProcessQueue, type JobQueue } from '../jobs/queue';
import { PgBossQueue } from '../jobs/pg-boss';
import { ReplicaRegistry } from '../replicas/registry';
import { TerminalDirectoryTable } from '../replicas/terminal-directory';
import { reconcile } from '../environments/reconciler';
import type { ProbeEndpoints } from '../http/probes';
import { createServiceProxy, type ServiceProxy } from '../http/service-proxy';
import { LabCatalog } from '../labs/catalog';
import { ScoreDispatcher } from '../lti/score-dispatcher';
import type { SessionDeps } from '../sessions/deps';
import { isTemporary } from '../sessions/errors';
import { Runbook } from '../sessions/runbook';
import { SessionService } from '../sessions/service';
import { createTerminalGateway, type TerminalGateway } from '../terminals/node/gateway';
import { ScreenStore } from '../terminals/node/screens';
import { trafficCaptures } from '../traffic/capture';
import { WebhookDispatcher } from '../webhooks/dispatcher';
import { passIntervals, startBackgroundPasses, type Passes } from './background';
import { createObservability } from './observability';
import { setRuntime, type Runtime } from '.';

export interface StartedRuntime extends Runtime {
  gateway: TerminalGateway;
  services: ServiceProxy;
  /** GET /healthz, /readyz and /metrics (lib/http/probes.ts), answered before Next. */
  probes: ProbeEndpoints;
  /**
   * Stops background work, pools, terminals (screens saved) and service tunnels, then awaits
   * `drain` (the HTTP server finishing its requests, which still use the runtime), then closes the
   * database. Idempotent.
   */
  close(drain?: () => Promise<void>): Promise<void>;
  /** Requests a variant of the runtime answers itself, before Next (`labforge dev`: its event stream); true when answered. */
  handleRequest?(req: IncomingMessage, res: ServerResponse): boolean;
}

/** What a variant of the server brings of its own (`labforge dev`, lib/runtime/dev.ts). */
export interface RuntimeParts {
  /** Served instead of the labs of LABFORGE_LABS_DIR; already loaded. */
  catalog?: LabCatalog;
  /** The watched lab's status, shown in its sessions' views. */
  author?: SessionDeps['author'];
}

/** `root`: the project folder (prisma/ with the migrations). */
export async function startRuntime(config: Config, root: string, parts: RuntimeParts = {}): Promise<StartedRuntime> {
  const slog = log.child({ module: 'runtime' });

  await migrate(config.databaseUrl, root);
  const db = createDb(config.databaseUrl);
  // The first admin: from LABFORGE_ADMIN_EMAIL/PASSWORD, or a one-time setup link printed now.
  await bootstrapAdmin(db, { publicUrl: config.publicUrl, admin: config.admin, log: slog });
  // This process among the replicas of the database: heartbeats, so the others know when it is gone.
  const replicas = new ReplicaRegistry(db, log, { heartbeatMs: config.replicaHeartbeatMs, deadAfterMs: config.replicaDeadMs, url: config.replicaUrl });
  await replicas.start();
  const catalog = parts.catalog ?? new LabCatalog(config.labsDirs);
  if (!parts.catalog) await catalog.load();
  // Names the containers of this database's sessions, so two platforms on one engine never reconcile
  // away each other's, and replicas of one platform share it. Made once (from the data dir, as it
  // always was) and kept in the database.
  const instance = await sharedSetting(db, 'instance', () => crypto.createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12));
  const drivers = createDrivers({
    instance,
    firewall: config.hostFirewall,
    diskLimits: config.diskLimits,
    dataDir: config.dataDir,
    debianMirror: config.debianMirror,
    downloadMirror: config.downloadMirror,
    kindNetwork: config.kindNetwork,
    dockerEngines: config.dockerEngines,
    engineDownMs: config.engineDownMs,
  });
  // Terminal tokens in the database and one service-key secret: any replica opens what another issued.
  const serviceSecret = Buffer.from(await sharedSetting(db, 'service-key-secret', () => crypto.randomBytes(32).toString('hex')), 'hex');
  const tokens = new TokenStore({ db, serviceSecret });
  // Provisioning jobs: in PostgreSQL (pg-boss) for every replica, or in this process with SQLite.
  const onPostgres = providerOf(config.databaseUrl) === 'postgresql';
  const jobs: JobQueue = onPostgres ? await PgBossQueue.connect(config.databaseUrl, log) : new InProcessQueue(log);
  // A Check through one replica and a Next through another wait for each other, as they do on one.
  const locks = onPostgres ? new AdvisoryLocks(config.databaseUrl) : undefined;

  const capacity = createCapacity({ maxEnvironments: config.maxEnvironments, totalMemBytes: await memoryOf(drivers), reserveFraction: config.capacityReserve });
  // Work bounded to what the machine does well at once: preparing environments (learners first,
  // pool refills behind them) and Checks' scripts. Sized from the cores unless configured.
  const limits = machineLimits(os.cpus().length);
  const provisionLimiter = new Limiter(config.provisionConcurrency ?? limits.provisioning, 'its turn to be prepared');
  const checkLimiter = new Limiter(config.checkConcurrency ?? limits.checks, 'a free check slot');
  slog.info({ provisioning: provisionLimiter.concurrency, checks: checkLimiter.concurrency }, 'concurrency limits');
  const pooled = config.pools.flatMap(({ lab, size }) => {
    const found = catalog.get(lab);
    if (!found) slog.warn({ lab }, 'LABFORGE_POOL names a lab that is not installed; no pool for it');
    return found ? [{ lab: found, size, ttlMs: config.poolTtlMs }] : [];
  });
  // Pool members go through the runbook's track setup, with no learner variables (labs that
  // need them are refused); the rest of the walk runs in the session that claims the member.
  const prepare = (env: Environment, lab: Lab) => Runbook.of(drivers[lab.track.environment.driver], lab, env, {}).prepare();
  // One server keeps its pool in memory; replicas share one in the database, kept full by a job.
  const poolDeps = { driver: drivers, capacity, limiter: provisionLimiter, log, prepare };
  const pool = jobs.shared
    ? new SharedPool(pooled, { ...poolDeps, db, replicaId: replicas.id, liveReplicas: () => replicas.liveIds() })
    : new WarmPool(pooled, poolDeps);

  // Metrics and readiness; the sessions report provisioning and Checks to it as they finish.
  const observability = createObservability({ config, db, catalog, drivers, capacity, pool, provisionLimiter, checkLimiter, jobs, replicas, log });

  // Ended sessions close their terminals; the gateway is made after the sessions, hence the late binding.
  let closeTerminals: (sessionId: string) => Promise<void> = async () => {};
  let prestartTerminals: (sessionId: string, learnerId: string, tabs: string[]) => void = () => {};
  const sessions = new SessionService({
    db,
    catalog,
    drivers,
    log,
    onEnded: (id) => closeTerminals(id),
    onActive: (id, learnerId, tabs) => prestartTerminals(id, learnerId, tabs),
    authorMode: config.authorMode,
    pool,
    capacity,
    provisionLimiter,
    checkLimiter,
    sessionCaps: { perLab: config.maxSessionsPerLab, perLearner: config.maxSessionsPerLearner },
    author: parts.author,
    observer: observability.metrics,
    jobs,
    locks,
    replicaId: replicas.id,
  });
  const runtime: Runtime = { config, db, catalog, drivers, sessions, tokens, log };
  setRuntime(runtime);

  await sessions.resumeAll();
  // Terminal screens saved by the previous process (lib/terminals/node/screens.ts); those of sessions
  // that are over (ended while no server ran, or just now by resumeAll) are removed.
  const screens = new ScreenStore(path.join(config.dataDir, 'terminals'), log);
  await screens.sweep(await sessions.liveOwners());
  const reconcileNow = () => reconcile(Object.values(drivers), () => sessions.liveOwners(), slog);
  await reconcileNow();
  pool.fill();

  const gateway = createTerminalGateway({
    allowedOrigins: config.allowedOrigins,
    tokens,
    graceMs: config.terminalGraceMs,
    log,
    resolve: (claims) => sessions.terminalTarget(claims.sessionId, claims.learnerId, claims.tab),
    isTemporary,
    // Activity is a hint: a database that cannot be written right now must not take the server down.
    onInput: (sessionId) => void sessions.touch(sessionId).catch((e: Error) => slog.warn({ err: e.message }, 'could not record terminal activity')),
    screens,
    // Replicas: a socket for a tab whose terminal runs on another replica is relayed there.
    directory: jobs.shared ? new TerminalDirectoryTable(db, replicas, log) : undefined,
  });
  closeTerminals = (id) => gateway.closeSession(id);
  observability.bindTerminals(() => gateway.stats());
  // A new session's shells start at once, not when its page connects: the prompt is there first.
  prestartTerminals = (id, learnerId, tabs) => {
    for (const tab of tabs) void gateway.prestart(id, learnerId, tab);
  };

  const services = createServiceProxy({
    allowedOrigins: config.allowedOrigins,
    log,
    // The key in the URL is the credential (a sandboxed service page sends no cookie): resolve as the owner.
    isKey: (id, tab, key) => tokens.isServiceKey(id, tab, key),
    resolve: async (id, tab) => {
      const owner = (await db.session.findUnique({ where: { id }, select: { learnerId: true } }))?.learnerId;
      if (!owner) throw Object.assign(new Error('session not found'), { code: 'not_found' });
      return sessions.serviceTarget(id, owner, tab);
    },
  });

  const webhooks = new WebhookDispatcher(db, log);
  webhooks.start();
  // LTI score passback (lib/lti/): the same Event log, read by its own cursor, posted to LMSs.
  const ltiScores = new ScoreDispatcher(db, log);
  ltiScores.start();
  // The passes over every session or engine run once for the platform, as jobs: each replica's timer
  // sends one per interval, one replica runs it (with SQLite, this process, unless it still runs).
  const periodic = {
    sweep: () => sessions.sweep(),
    watch: () => sessions.watchHosts(),
    reconcile: reconcileNow,
    ...(pool instanceof SharedPool && { pool: () => pool.refill() }),
  };
  for (const [name, pass] of Object.entries(periodic)) {
    await jobs.work(
      name,
      async () => {
        await pass();
      },
      { concurrency: 1, periodic: true },
    );
  }
  const intervals = passIntervals(config);
  const send = (name: keyof Passes) => () => jobs.sendPeriodic(name, Math.max(1, Math.round(intervals[name] / 1000)));
  const passes = startBackgroundPasses(intervals, slog, {
    sweep: send('sweep'),
    watch: send('watch'),
    reconcile: send('reconcile'),
    pool: pool instanceof SharedPool ? send('pool') : async () => undefined,
    replicas: async () => {
      // SQLite has one server: nothing to hand over or share, only its predecessors' rows to forget.
      if (jobs.shared) {
        await sessions.handOver(await replicas.liveIds());
        await sessions.syncCapacity();
        if (pool instanceof SharedPool) await pool.syncCapacity();
      }
      await replicas.forgetGone();
    },
  });

  let closing: Promise<void> | undefined;
  return {
    ...runtime,
    gateway,
    services,
    probes: observability.probes,
    close(drain) {
      closing ??= (async () => {
        // Not ready from the first moment: load balancers stop sending requests while this drains.
        observability.readiness.shuttingDown();
        passes.stop();
        // Before the queue: a pool pass making a member is cut short, so stopping the queue does not wait for it.
        await pool.stop();
        await jobs.stop();
        await webhooks.stop(); // attempts under way finish (10 s at most) and are recorded, so none is sent twice
        await ltiScores.stop();
        await gateway.close();
        services.close();
        await trafficCaptures().close();
        await drain?.();
        await locks?.close();
        // Last: the other replicas take this one's unfinished jobs as soon as its row is gone.
        await replicas.stop().catch((e: Error) => slog.warn({ err: e.message }, 'could not remove the replica row'));
        await db.$disconnect();
        setRuntime(undefined);
      })();
      return closing;
    },
  };
}

/**
 * The memory environments may use: this machine's, or with a fleet of engines the sum of what
 * the engines that answer at start report (each places its own hosts).
 */
async function memoryOf(drivers: Record<string, unknown>): Promise<number> {
  if (!(drivers.docker instanceof DockerFleet)) return os.totalmem();
  const engines = await drivers.docker.status();
  const total = engines.reduce((sum, e) => sum + (e.load?.memoryBytes ?? 0), 0);
  log.info({ engines: engines.map((e) => ({ name: e.name, up: e.up, cpus: e.load?.cpus, memoryBytes: e.load?.memoryBytes })) }, 'Docker engines of the fleet');
  return total || os.totalmem();
}
