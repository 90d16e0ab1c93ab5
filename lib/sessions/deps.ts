/** What a SessionService is built from: the constructor's options, shared by every part of it. */
import type { Db } from '../db/client';
import type { EnvironmentDriver } from '../environments/driver';
import type { LabCatalog } from '../labs/catalog';
import type { Logger } from '../base/log';
import type { Pool } from '../environments/pool/contract';
import type { Capacity } from '../environments/capacity';
import type { Limiter } from '../base/limiter';
import type { NamedLocks } from '../db/locks';
import type { JobQueue } from '../jobs/queue';
import type { AuthorView } from './view';

/**
 * Told what sessions did, for the platform's metrics (lib/observability/): labels are lab and
 * challenge slugs from the catalog, never a session or a learner. Must not throw.
 */
export interface SessionObserver {
  /** A session's provisioning ended, from its start to `active` (or its failure): waits for room and turn included. */
  provisioned(e: { lab: string; outcome: 'active' | 'failed' | 'cancelled'; warm: boolean; ms: number }): void;
  /** A Check (or a quiz's answer) was judged, or could not be (`error`), from the press to the verdict. */
  checked(e: { lab: string; challenge: string; result: 'passed' | 'failed' | 'error'; ms: number }): void;
}

export interface SessionDeps {
  db: Db;
  catalog: LabCatalog;
  drivers: Record<string, EnvironmentDriver>;
  log: Logger;
  /** Called when a session ends, to close its terminals. */
  onEnded?: (sessionId: string) => Promise<void>;
  /**
   * Called when a session becomes active, with its current challenge's terminal tabs: their
   * shells can start now, while the learner's page is still on its way (the terminal gateway).
   */
  onActive?: (sessionId: string, learnerId: string, terminalTabs: string[]) => void;
  now?: () => Date;
  /** Lets a session start at any challenge (for lab authors and end-to-end tests). */
  authorMode?: boolean;
  /** Environments provisioned ahead of time, through track setup (claimed at start). */
  pool?: Pool;
  /** The host's limit on concurrent environments; over it, learners wait in a queue. */
  capacity?: Capacity;
  /** How many environments are prepared at once (create, track setup, first challenge); later starts wait their turn. Unset: no limit. */
  provisionLimiter?: Limiter;
  /** How many Checks run their scripts at once, across sessions. Unset: no limit. */
  checkLimiter?: Limiter;
  /** Live (provisioning/active) sessions a learner may hold: of one lab, and in all. The server sets them from config; unset: no cap. */
  sessionCaps?: { perLab: number; perLearner: number };
  /** Stored check output (bytes): per run and per session; defaults CHECK_OUTPUT (check-output.ts). */
  checkOutput?: { perRun: number; perSession: number };
  /** `labforge dev`: the watched lab's status for a lab slug (undefined for others), shown in its sessions' views. */
  author?: (labSlug: string) => AuthorView | undefined;
  /** Told of provisioning and Checks as they finish (the server's metrics); unset: nobody. */
  observer?: SessionObserver;
  /** Where `provision` jobs go (lib/jobs/); unset: a queue in this process. */
  jobs?: JobQueue;
  /** Locks every replica honours (lib/db/locks.ts), under the per-session lock; unset: this process only. */
  locks?: NamedLocks;
  /** This server's replica id (lib/replicas/registry.ts), written on the sessions it prepares; unset: `local`. */
  replicaId?: string;
}
