/**
 * Session records and the guards every operation starts with: loading a
 * session its caller owns, its environment and driver, and the event log.
 * SessionService (service.ts) builds the state machine on top of this.
 */
import type { Db, SessionRow } from '../db/client';
import type { Environment, EnvironmentDriver } from '../environments/driver';
import type { Lab } from '../labs/schema';
import type { LabCatalog } from '../labs/catalog';
import type { Logger } from '../base/log';
import type { WarmPool } from '../environments/pool/pool';
import type { Capacity } from '../environments/capacity';
import { Lifecycle } from './lifecycle';
import { SessionError, notFound } from './errors';
import { parseHosts, updateHost } from './hosts';

export interface SessionDeps {
  db: Db;
  catalog: LabCatalog;
  drivers: Record<string, EnvironmentDriver>;
  log: Logger;
  /** Called when a session ends, to close its terminals. */
  onEnded?: (sessionId: string) => Promise<void>;
  now?: () => Date;
  /** Lets a session start at any challenge (for lab authors and end-to-end tests). */
  authorMode?: boolean;
  /** Environments provisioned ahead of time, through track setup (claimed at start). */
  pool?: WarmPool;
  /** The host's limit on concurrent environments; over it, learners wait in a queue. */
  capacity?: Capacity;
  /** Live (provisioning/active) sessions a learner may hold: of one lab, and in all. The server sets them from config; unset: no cap. */
  sessionCaps?: { perLab: number; perLearner: number };
  /** Stored check output (bytes): per run and per session; defaults CHECK_OUTPUT (check-output.ts). */
  checkOutput?: { perRun: number; perSession: number };
}

export class SessionStore {
  protected log: Logger;
  protected now: () => Date;

  constructor(protected deps: SessionDeps) {
    this.log = deps.log.child({ module: 'sessions' });
    this.now = deps.now ?? (() => new Date());
  }

  protected markChallenge(sessionId: string, index: number, status: string) {
    return this.deps.db.challengeProgress.update({ where: { sessionId_index: { sessionId, index } }, data: { status } });
  }

  protected lifecycle(row: SessionRow, lab: Lab) {
    return new Lifecycle(this.driverFor(lab), lab, this.environmentOf(row), JSON.parse(row.variables) as Record<string, string>);
  }

  protected environmentOf(row: SessionRow): Environment {
    if (!row.environment) throw new SessionError('unavailable', 'this session has no environment yet');
    return JSON.parse(row.environment) as Environment;
  }

  protected driverFor(lab: Lab): EnvironmentDriver {
    const d = this.deps.drivers[lab.track.environment.driver];
    if (!d) throw new SessionError('unavailable', `the ${lab.track.environment.driver} driver is not available on this server`);
    return d;
  }

  protected requireActive(row: SessionRow) {
    if (row.status === 'provisioning') throw new SessionError('conflict', 'the environment is still being prepared', { retryable: true });
    if (row.status !== 'active') throw new SessionError('conflict', `this session is ${row.status}`);
  }

  /** Loads a session and proves the caller owns it. Unknown and foreign ids look the same. */
  protected async owned(id: string, learnerId: string): Promise<{ row: SessionRow; lab: Lab }> {
    const row = await this.deps.db.session.findUnique({ where: { id } });
    if (!row || row.learnerId !== learnerId) throw notFound('session');
    const lab = this.deps.catalog.get(row.labSlug);
    if (!lab) throw new SessionError('unavailable', `the lab "${row.labSlug}" is no longer installed`);
    return { row, lab };
  }

  /**
   * Records what happened to one host (hosts.ts) and logs it as an event. Call under the session's
   * lock: it reads the row, changes one host and writes the record back.
   */
  protected async changeHost(sessionId: string, host: string, change: Parameters<typeof updateHost>[2]): Promise<void> {
    const row = await this.deps.db.session.findUnique({ where: { id: sessionId }, select: { hosts: true } });
    if (!row) return;
    const hosts = updateHost(parseHosts(row.hosts), host, change, this.now());
    await this.deps.db.session.update({ where: { id: sessionId }, data: { hosts: JSON.stringify(hosts) } });
    if (change.notice || change.state) await this.event(sessionId, 'host', { host, state: change.state, ...change.notice });
  }

  protected async event(sessionId: string, type: string, data: object) {
    await this.deps.db.event.create({ data: { sessionId, type, data: JSON.stringify(data) } }).catch(() => undefined);
  }
}
