/**
 * What the sessions and the runtime see of a warm pool, whichever keeps it: the in-process pool
 * (pool.ts: one server, members in its memory, a refill loop per lab) or the shared one
 * (shared.ts: replicas on PostgreSQL, members as database rows any replica claims, refilled by a
 * job). Both take the same configuration and refuse the same labs, here.
 */
import { z } from 'zod';
import type { Lab } from '../../labs/schema';
import type { Logger } from '../../base/log';
import type { Environment, EnvironmentDriver } from '../driver';
import { poolRefusal } from './eligibility';
import type { PoolLabConfig, PoolLabStats } from './members';

export interface PoolStats {
  labs: PoolLabStats[];
  refused: Array<{ lab: string; reason: string }>;
}

export interface Pool {
  /** Starts keeping the pools full (and giving members back while learners queue). Idempotent. */
  fill(): void;
  /**
   * A ready environment with track setup done, or undefined (not pooled, or empty: provision
   * cold). Its capacity ticket is then held under `holder` (the session id) when given.
   */
  claim(labSlug: string, holder?: string): Promise<Environment | undefined>;
  /** Owners the pool keeps alive (ready, being created, just claimed): the reconciler must spare them. */
  ownedBy(): Promise<Set<string>>;
  stats(): Promise<PoolStats>;
  /** Resolves once the lab has `count` ready members (default: its size); rejects after timeoutMs. */
  untilReady(labSlug: string, count?: number, timeoutMs?: number): Promise<void>;
  /** Why a lab is not pooled, if it was configured and refused. */
  refusal(labSlug: string): string | undefined;
  stop(): Promise<void>;
}

const labConfigSchema = z.object({
  size: z.number().int().min(0).max(100),
  ttlMs: z.number().int().positive(),
});

export interface AcceptedLab {
  cfg: PoolLabConfig;
  driver: EnvironmentDriver;
}

/**
 * The configured labs a pool takes, and why it refuses the others (bad size or TTL, configured
 * twice, a track setup that needs learner variables, no driver for it, or `refuse`'s own reason).
 * Refusals are logged, never thrown: a lab without a pool only starts cold.
 */
export function acceptPoolLabs(
  labs: PoolLabConfig[],
  driverFor: (lab: Lab) => EnvironmentDriver | undefined,
  log: Logger,
  refuse: (lab: Lab) => string | undefined = () => undefined,
): { accepted: Map<string, AcceptedLab>; refused: PoolStats['refused'] } {
  const accepted = new Map<string, AcceptedLab>();
  const refused: PoolStats['refused'] = [];
  for (const cfg of labs) {
    const slug = cfg.lab.track.slug;
    const parsed = labConfigSchema.safeParse(cfg);
    const driver = driverFor(cfg.lab);
    const reason = !parsed.success
      ? `invalid pool config: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`
      : accepted.has(slug)
        ? 'configured twice'
        : (poolRefusal(cfg.lab) ?? (driver ? refuse(cfg.lab) : `no "${cfg.lab.track.environment.driver}" driver on this server`));
    if (reason) {
      refused.push({ lab: slug, reason });
      log.warn({ lab: slug, reason }, 'lab not pooled');
    } else accepted.set(slug, { cfg, driver: driver! });
  }
  return { accepted, refused };
}

/** The pool's driver for a lab: the one driver it was given, or the lab's by name. */
export function poolDriverFor(drivers: EnvironmentDriver | Record<string, EnvironmentDriver>) {
  return (lab: Lab): EnvironmentDriver | undefined =>
    'create' in drivers && typeof drivers.create === 'function'
      ? (drivers as EnvironmentDriver)
      : (drivers as Record<string, EnvironmentDriver>)[lab.track.environment.driver];
}
