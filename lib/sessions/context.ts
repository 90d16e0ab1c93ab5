/**
 * What every part of a SessionService shares, built once from its options: the database
 * (repository.ts), the guards, how a session ends, and the per-session lock. Each part
 * (queries.ts, commands.ts, targets.ts, …) takes this one object, so they all see the same lock.
 */
import type { Logger } from '../base/log';
import type { SessionDeps } from './deps';
import { Ending } from './ending';
import { SessionGuards } from './guards';
import { KeyedLock } from './lock';
import { SessionRepository } from './repository';
import type { QueueView } from './view';

export class SessionContext {
  readonly log: Logger;
  readonly now: () => Date;
  readonly repo: SessionRepository;
  readonly guards: SessionGuards;
  readonly ending: Ending;
  /** This server's replica id (deps.replicaId): written on the sessions it prepares. */
  readonly replica: string;
  /** One operation at a time per session (and per `learner:<id>` for starts), across replicas when they share locks. */
  readonly lock: KeyedLock;
  /** Starts waiting in a queue (provisioning.ts): where each stands now, read by the session's view. */
  readonly waiting = new Map<string, () => QueueView | undefined>();

  constructor(readonly deps: SessionDeps) {
    this.log = deps.log.child({ module: 'sessions' });
    this.now = deps.now ?? (() => new Date());
    this.repo = new SessionRepository(deps.db, this.now);
    this.lock = new KeyedLock(deps.locks);
    this.replica = deps.replicaId ?? 'local';
    this.guards = new SessionGuards(this.repo, deps.catalog, deps.drivers);
    this.ending = new Ending(deps, this.repo, this.log);
  }
}
