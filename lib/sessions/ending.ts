/**
 * How a session ends (completed, stopped, expired, failed). Every path that ends one comes through
 * here, so none forgets a step: provisioning still under way is aborted, the capacity slot freed,
 * the terminals closed and the environment removed.
 */
import type { SessionRow } from '../db/client';
import type { Environment } from '../environments/driver';
import type { Lab } from '../labs/schema';
import type { Logger } from '../base/log';
import type { SessionDeps } from './deps';
import type { SessionRepository } from './repository';
import type { SessionStatus } from './view';

export class Ending {
  /** Provisioning runs in the background (provisioning.ts) until it is done or the session ends. */
  readonly provisioning = new Map<string, AbortController>();

  constructor(
    private deps: SessionDeps,
    private repo: SessionRepository,
    private log: Logger,
  ) {}

  async end(row: SessionRow, lab: Lab, status: SessionStatus, error?: string): Promise<void> {
    // Recorded first, with its session.<status> event: a preparation aborted below then reads that
    // the session was stopped, not that it failed. One that ended meanwhile keeps that end.
    const ended = await this.repo.end(row.id, status, error);
    this.provisioning.get(row.id)?.abort();
    this.deps.capacity?.release(row.id);
    await this.deps.onEnded?.(row.id).catch(() => undefined);
    const driver = this.deps.drivers[lab.track.environment.driver];
    if (row.environment)
      await driver?.destroy(JSON.parse(row.environment) as Environment).catch((e: Error) => this.log.warn({ err: e.message }, 'destroy failed'));
    else await driver?.destroyOwner(row.id).catch(() => undefined);
    if (ended) this.log.info({ session: row.id, status }, 'session ended');
    else this.log.info({ session: row.id, status }, 'session had ended already: only what was left of it is removed');
  }

  /**
   * Ends the session as failed with `message`. `env`: one created but not stored yet, to remove.
   * Without its lab (uninstalled) there is no driver to ask: only the row is written.
   */
  async fail(row: SessionRow, lab: Lab | null, message: string, env?: Environment): Promise<void> {
    const withEnv = env && !row.environment ? { ...row, environment: JSON.stringify(env) } : row;
    if (lab) await this.end(withEnv, lab, 'failed', message);
    else await this.repo.end(row.id, 'failed', message);
  }
}
