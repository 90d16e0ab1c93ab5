/**
 * What the runtime tells operators and orchestrators (lib/observability/, served by
 * lib/http/probes.ts): the metrics, fed by the services start.ts composes, and the readiness
 * checks. Made before the session service (it is the sessions' observer); the terminal gateway,
 * made after it, is bound late.
 */
import type { Config } from '../base/config';
import type { Limiter } from '../base/limiter';
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import type { Capacity } from '../environments/capacity';
import type { EnvironmentDriver } from '../environments/driver';
import type { Pool } from '../environments/pool/contract';
import { engineStatuses } from '../environments/fleet';
import { createProbeEndpoints, type ProbeEndpoints } from '../http/probes';
import type { JobQueue } from '../jobs/queue';
import type { LabCatalog } from '../labs/catalog';
import type { ReplicaRegistry } from '../replicas/registry';
import { databaseCheck, engineChecks } from '../observability/dependencies';
import { Metrics } from '../observability/metrics';
import { Readiness } from '../observability/readiness';
import { cached, countSessions } from '../observability/session-counts';
import { outboxCounts } from '../webhooks/outbox-status';

export interface ObservabilityParts {
  config: Config;
  db: Db;
  catalog: LabCatalog;
  drivers: Record<string, EnvironmentDriver>;
  capacity: Capacity;
  pool: Pool;
  provisionLimiter: Limiter;
  checkLimiter: Limiter;
  jobs: JobQueue;
  replicas: ReplicaRegistry;
  log: Logger;
}

export interface Observability {
  metrics: Metrics;
  readiness: Readiness;
  probes: ProbeEndpoints;
  /** The terminal gateway's counts, once it exists. */
  bindTerminals(stats: () => { terminals: number; sockets: number }): void;
}

export function createObservability(p: ObservabilityParts): Observability {
  let terminals = () => ({ terminals: 0, sockets: 0 });
  const sessions = cached(() => countSessions(p.db));
  const metrics = new Metrics(
    {
      sessions,
      capacity: () => ({
        used: p.capacity.used,
        limit: p.capacity.limit,
        unit: p.config.maxEnvironments !== undefined ? 'environments' : 'mebibytes',
        environments: p.capacity.snapshot().running.length,
      }),
      queues: () => ({ room: p.capacity.snapshot().queued.length, turn: p.provisionLimiter.stats().waiting, checks: p.checkLimiter.stats().waiting }),
      pools: async () => (await p.pool.stats()).labs.map((l) => ({ lab: l.lab, size: l.size, ready: l.ready, creating: l.creating })),
      terminals: () => terminals(),
      engines: () => engineStatuses(p.drivers.docker),
      jobs: () => p.jobs.depth(),
      replicas: async () => (await p.replicas.liveIds()).size,
      deliveries: () => outboxCounts(p.db),
    },
    {
      isLab: (slug) => !!p.catalog.get(slug),
      onSourceError: (source, err) => p.log.warn({ module: 'metrics', source, err: err.message }, 'a metrics source could not be read'),
    },
  );
  const readiness = new Readiness({ database: databaseCheck(p.db, p.config.databaseUrl, p.log), ...engineChecks(p.drivers) });
  const probes = createProbeEndpoints({ readiness, metrics, metricsToken: p.config.metricsToken, operatorToken: p.config.operatorToken, log: p.log });
  return { metrics, readiness, probes, bindTerminals: (stats) => (terminals = stats) };
}
