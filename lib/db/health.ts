/**
 * The database's condition while the server runs: whether it can be written
 * right now (GET /api/v1/health), the last storage fault a request met, and
 * getting back to work when a fault clears, without a restart.
 *
 * State lives on globalThis: route handlers are bundled apart from server.ts
 * (see lib/runtime/index.ts), and every bundle must see the same memory.
 */
import type { Db } from './client';
import { LOW_SPACE_BYTES, diagnose, storageFault, storageReason, type StorageFault } from './faults';
import { databaseFile } from './provider';
import { writeProbe } from './raw';
import type { Logger } from '../base/log';

export interface DatabaseHealth {
  ok: boolean;
  /** Why not, for operators (paths included). */
  reason?: string;
  code?: string;
  /** The last storage fault a request met (it may have cleared since). */
  lastFault?: { code: string; reason: string; at: string };
}

interface State {
  lastFault?: DatabaseHealth['lastFault'];
  probe?: { at: number; result: Promise<DatabaseHealth> };
  reopenedAt?: number;
}

const KEY = Symbol.for('labforge.db.health');
const state = (): State => ((globalThis as { [KEY]?: State })[KEY] ??= {});

/** Health answers are reused this long: health is public, and each probe is a (tiny) write with a sync. */
export const PROBE_MAX_AGE_MS = 1000;
const REOPEN_EVERY_MS = 2000;

/** Remembers a fault a request met, for the operators' health detail. */
export function noteStorageFault(fault: StorageFault, reason: string): void {
  state().lastFault = { code: fault.code, reason, at: new Date().toISOString() };
}

/**
 * A connection SQLite opened while the file was read-only stays read-only
 * (SQLITE_READONLY), and one whose file was replaced under it answers
 * SQLITE_READONLY_DBMOVED, even once the file is fine again: close it when the
 * filesystem says the file is writable, and Prisma opens a new one on the next
 * query. Other faults clear by themselves (SQLite retries the journal and the
 * write on the next statement). At most once per REOPEN_EVERY_MS.
 */
export async function recoverFrom(db: Db, fault: StorageFault, databaseUrl: string | undefined, log: Logger): Promise<boolean> {
  if (fault.code !== 'SQLITE_READONLY' && fault.code !== 'SQLITE_READONLY_DBMOVED') return false;
  const file = databaseFile(databaseUrl);
  const s = state();
  if (!file || (await diagnose(file)) || Date.now() - (s.reopenedAt ?? 0) < REOPEN_EVERY_MS) return false;
  s.reopenedAt = Date.now();
  log.warn({ file, code: fault.code }, 'the database file is writable again: reopening it');
  await db.$disconnect();
  return true;
}

/** Whether the database can be written now (a probe, reused for PROBE_MAX_AGE_MS). */
export function databaseHealth(db: Db, databaseUrl: string | undefined, log: Logger): Promise<DatabaseHealth> {
  const s = state();
  if (s.probe && Date.now() - s.probe.at < PROBE_MAX_AGE_MS) return s.probe.result;
  const result = probe(db, databaseUrl, log);
  s.probe = { at: Date.now(), result };
  return result;
}

async function probe(db: Db, databaseUrl: string | undefined, log: Logger): Promise<DatabaseHealth> {
  const file = databaseFile(databaseUrl);
  const lastFault = state().lastFault;
  try {
    await writeProbe(db).catch(async (e: unknown) => {
      const fault = storageFault(e);
      if (fault && (await recoverFrom(db, fault, databaseUrl, log))) return writeProbe(db);
      throw e;
    });
  } catch (e) {
    const fault = storageFault(e);
    if (!fault) return { ok: false, reason: `the database does not answer: ${lastLine(e)}`, lastFault };
    return { ok: false, code: fault.code, reason: await storageReason(fault, file), lastFault };
  }
  // The probe fits in a page; real writes (a Check's output) need more: report a nearly full disk too.
  const seen = file ? await diagnose(file) : undefined;
  if (seen?.kind === 'full') return { ok: false, reason: `${seen.reason}; below ${LOW_SPACE_BYTES / 1024 / 1024} MiB free, writes fail`, lastFault };
  return { ok: true, ...(lastFault ? { lastFault } : {}) };
}

const lastLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).trim().split('\n').at(-1)!.slice(0, 300);

/**
 * Work that runs outside a request (a session's provisioning, timers) can meet
 * a storage fault with nobody to answer: the data is consistent (SQLite rolled
 * back), so say so in the log and keep serving. Next's server already keeps the
 * process alive on unhandled rejections (it logs them); other rejections are
 * left to it, and end the process as Node's default does when no one else
 * listens. Installed once, by `labforge serve`.
 */
export function keepServingThroughStorageFaults(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    const fault = storageFault(reason);
    if (fault) return log.error({ code: fault.code, err: lastLine(reason) }, 'background work could not save (storage fault); the server goes on');
    if (process.listenerCount('unhandledRejection') === 1) throw reason;
  });
}
