/**
 * The one Labforge server process: Next.js pages and API routes, and the
 * terminal WebSocket upgrades, on one port. Boot order: config → database
 * (migrated) → labs → drivers → sessions (resumed) → reconciler → HTTP.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { loadConfig, type Config } from './lib/base/config';
import { log } from './lib/base/log';
import { createDb, migrate } from './lib/db/client';
import { LabCatalog } from './lib/labs/catalog';
import { createDrivers } from './lib/environments';
import os from 'node:os';
import { reconcile } from './lib/environments/reconciler';
import { createCapacity } from './lib/environments/capacity';
import { WarmPool } from './lib/environments/pool/pool';
import { Runbook } from './lib/sessions/runbook';
import { SessionService } from './lib/sessions/service';
import { isTemporary } from './lib/sessions/errors';
import { TokenStore } from './lib/auth/tokens';
import { createTerminalGateway } from './lib/terminals/node/gateway';
import { ScreenStore } from './lib/terminals/node/screens';
import { setRuntime } from './lib/runtime';
import { SERVICE_PREFIX, createServiceProxy } from './lib/http/service-proxy';
import { PEER_HEADER } from './lib/http/limits';
import { secureNextRequest } from './lib/http/headers';

const root = path.dirname(fileURLToPath(import.meta.url));

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(opts: { dev?: boolean; config?: Config } = {}): Promise<RunningServer> {
  const config = opts.config ?? loadConfig();
  const slog = log.child({ module: 'server' });

  await migrate(config.databaseUrl, root);
  const db = createDb(config.databaseUrl);
  const catalog = new LabCatalog(config.labsDirs);
  await catalog.load();
  const instance = crypto.createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12);
  const drivers = createDrivers({ instance, firewall: config.hostFirewall, diskLimits: config.diskLimits });
  const tokens = new TokenStore();

  const capacity = createCapacity({
    maxEnvironments: config.maxEnvironments,
    totalMemBytes: os.totalmem(),
    reserveFraction: config.capacityReserve,
  });
  const pool = new WarmPool(
    config.pools.flatMap(({ lab, size }) => {
      const found = catalog.get(lab);
      if (!found) slog.warn({ lab }, 'LABFORGE_POOL names a lab that is not installed; no pool for it');
      return found ? [{ lab: found, size, ttlMs: config.poolTtlMs }] : [];
    }),
    {
      driver: drivers,
      capacity,
      log,
      // Pool members go through the runbook's track setup, with no learner variables (labs that
      // need them are refused); the rest of the walk runs in the session that claims the member.
      prepare: (env, lab) => Runbook.of(drivers[lab.track.environment.driver], lab, env, {}).prepare(),
    },
  );

  let closeTerminals: (sessionId: string) => Promise<void> = async () => {};
  const sessions = new SessionService({
    db,
    catalog,
    drivers,
    log,
    onEnded: (id) => closeTerminals(id),
    authorMode: config.authorMode,
    pool,
    capacity,
    sessionCaps: { perLab: config.maxSessionsPerLab, perLearner: config.maxSessionsPerLearner },
  });
  setRuntime({ config, db, catalog, drivers, sessions, tokens, log });

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
  });
  closeTerminals = (id) => gateway.closeSession(id);

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

  const app = next({ dev: !!opts.dev, dir: root, hostname: 'localhost', port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const nextUpgrade = app.getUpgradeHandler();

  const server = http.createServer((req, res) => {
    if (services.handleRequest(req, res)) return;
    // The client's socket address, for per-address rate limits (lib/http/limits.ts); a client cannot set it.
    req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
    if (!secureNextRequest(req, res, { dev: !!opts.dev })) return; // CSP with a nonce, nosniff, framing, referrer; 414
    void handle(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/ws/terminal') return gateway.handleUpgrade(req, socket, head);
    if (pathname.startsWith(SERVICE_PREFIX)) return void services.handleUpgrade(req, socket, head);
    if (opts.dev) return void nextUpgrade(req, socket, head); // HMR
    socket.destroy();
  });

  const sweeper = setInterval(() => void sessions.sweep().catch((e: Error) => slog.warn({ err: e.message }, 'sweep failed')), 10_000);
  sweeper.unref();
  // A long-running server also catches what breaks later. Often: hosts that stopped under a live
  // session (the learner is told and can restart them; a removed one fails the session). Seldom:
  // leftovers nobody owns (removed). A pass still running when the next is due is not doubled.
  const every = (ms: number, what: string, pass: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void pass()
        .catch((e: Error) => slog.warn({ err: e.message }, `${what} failed`))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    return timer;
  };
  const watcher = every(config.watchMs, 'host watch', () => sessions.watchHosts());
  const housekeeping = every(config.reconcileMs, 'housekeeping', reconcileNow);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const url = `http://localhost:${config.port}`;
  slog.info({ url, labs: catalog.list().length, dataDir: config.dataDir }, 'Labforge is ready');

  return {
    url,
    async close() {
      clearInterval(sweeper);
      clearInterval(watcher);
      clearInterval(housekeeping);
      await pool.stop();
      await gateway.close();
      // No new connections; idle keep-alive ones end now, requests in flight get a moment to finish.
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), 5_000);
      await closed;
      clearTimeout(grace);
      await app.close?.();
      await db.$disconnect();
      setRuntime(undefined);
    },
  };
}
