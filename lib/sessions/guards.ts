/**
 * The checks every operation on a session starts with: load it for the learner who owns it, make
 * sure it is active, and find its environment and the driver that runs it. Each refusal is a
 * SessionError with the answer the learner gets.
 */
import type { SessionRow } from '../db/client';
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { Lab } from '../labs/schema';
import type { LabCatalog } from '../labs/catalog';
import { SessionError, notFound } from './errors';
import type { SessionRepository } from './repository';

export class SessionGuards {
  constructor(
    private repo: SessionRepository,
    private catalog: LabCatalog,
    private drivers: Record<string, EnvironmentDriver>,
  ) {}

  /** Loads a session and proves the caller owns it. Unknown and foreign ids look the same. */
  async owned(id: string, learnerId: string): Promise<{ row: SessionRow; lab: Lab }> {
    const row = await this.repo.find(id);
    if (!row || row.learnerId !== learnerId) throw notFound('session');
    const lab = this.catalog.get(row.labSlug);
    if (!lab) throw new SessionError('unavailable', `the lab "${row.labSlug}" is no longer installed`);
    return { row, lab };
  }

  requireActive(row: SessionRow): void {
    if (row.status === 'provisioning') throw new SessionError('conflict', 'the environment is still being prepared', { retryable: true });
    if (row.status !== 'active') throw new SessionError('conflict', `this session is ${row.status}`);
  }

  environmentOf(row: SessionRow): Environment {
    if (!row.environment) throw new SessionError('unavailable', 'this session has no environment yet');
    return JSON.parse(row.environment) as Environment;
  }

  driverFor(lab: Lab): EnvironmentDriver {
    const d = this.drivers[lab.track.environment.driver];
    if (!d) throw new SessionError('unavailable', `the ${lab.track.environment.driver} driver is not available on this server`);
    return d;
  }
}
