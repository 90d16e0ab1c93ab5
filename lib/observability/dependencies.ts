/**
 * The dependencies a replica needs to serve learners, as readiness checks (readiness.ts). The
 * database check is the probe GET /api/v1/health answers with (lib/db/health.ts: a write that
 * changes nothing, shared and reused for a second), so the two endpoints cannot disagree.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import { databaseHealth } from '../db/health';
import type { EnvironmentDriver } from '../environments/driver';
import type { DependencyCheck } from './readiness';

export function databaseCheck(db: Db, databaseUrl: string | undefined, log: Logger): DependencyCheck {
  return async () => {
    const health = await databaseHealth(db, databaseUrl, log);
    return health.ok ? { ok: true } : { ok: false, reason: 'the database cannot be written', detail: health.reason };
  };
}

/** One check per driver that can be pinged (its engine); drivers on another's engine (Kind on Docker) have none. */
export function engineChecks(drivers: Record<string, EnvironmentDriver>): Record<string, DependencyCheck> {
  const checks: Record<string, DependencyCheck> = {};
  for (const [name, driver] of Object.entries(drivers)) {
    if (!driver.ping) continue;
    const ping = driver.ping.bind(driver);
    checks[name] = async () => {
      try {
        await ping();
        return { ok: true };
      } catch (e) {
        return { ok: false, reason: `the ${name} engine does not answer`, detail: (e as Error).message };
      }
    };
  }
  return checks;
}
