/**
 * Which replica runs each lab session tab's terminal (a `TerminalHolder` row), so that a socket
 * reaching any replica ends at the one shell every window of that tab shares: the gateway relays it
 * to the holder (lib/terminals/node/relay.ts). A holder that is gone holds nothing: the next socket
 * starts the terminal where it lands, and that replica holds it from then on.
 */
import type { Logger } from '../base/log';
import type { Db } from '../db/client';
import type { ReplicaRegistry } from './registry';

export interface TerminalDirectory {
  /** The URL of the live replica, other than this one, whose terminal this tab is; undefined: none (start it here). */
  elsewhere(sessionId: string, tab: string): Promise<string | undefined>;
  /** This replica runs the tab's terminal now. */
  hold(sessionId: string, tab: string): void;
  /** Its terminal here ended: the row goes, if it is still this replica's. */
  release(sessionId: string, tab: string): void;
}

export class TerminalDirectoryTable implements TerminalDirectory {
  constructor(
    private readonly db: Db,
    private readonly replicas: ReplicaRegistry,
    private readonly log: Logger,
  ) {}

  async elsewhere(sessionId: string, tab: string): Promise<string | undefined> {
    const row = await this.db.terminalHolder.findUnique({ where: { sessionId_tab: { sessionId, tab } } });
    if (!row || row.replicaId === this.replicas.id) return undefined;
    return this.replicas.urlOf(row.replicaId);
  }

  hold(sessionId: string, tab: string): void {
    const replicaId = this.replicas.id;
    // A hint for the other replicas: a lost write costs a second shell, not the terminal.
    this.db.terminalHolder
      .upsert({ where: { sessionId_tab: { sessionId, tab } }, create: { sessionId, tab, replicaId }, update: { replicaId } })
      .catch((e: Error) => this.log.warn({ sessionId, tab, err: e.message }, 'could not record where a terminal runs'));
  }

  release(sessionId: string, tab: string): void {
    this.db.terminalHolder
      .deleteMany({ where: { sessionId, tab, replicaId: this.replicas.id } })
      .catch((e: Error) => this.log.warn({ sessionId, tab, err: e.message }, 'could not forget where a terminal ran'));
  }
}
