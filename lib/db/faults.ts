/**
 * Storage faults: the database cannot be written because of where it lives (a
 * read-only file or folder, a full disk, an I/O error), not because of what was
 * asked. SQLite then rolls the statement back and the data stays consistent, so
 * the right answer is "not now" (503, try again), never a 500 with a stack, and
 * the process keeps running.
 *
 * Prisma with the better-sqlite3 adapter hands over the driver's extended result
 * code as `code` (tried: `SQLITE_CANTOPEN` when the folder is read-only and no
 * journal can be made, `SQLITE_IOERR_WRITE` when the file itself is, `SQLITE_FULL`
 * on a full tmpfs, `SQLITE_READONLY` on a connection opened while the file was
 * read-only); errors are recognised by that shape, not by class, since route
 * handlers are bundled apart from the Prisma client that threw.
 */
import fs from 'node:fs';
import path from 'node:path';

export type StorageKind = 'read-only' | 'full' | 'cannot-open' | 'io';

/**
 * PostgreSQL's SQLSTATEs for the same conditions, as adapter-pg hands them over (the `code` of the
 * error's cause): a read-only transaction (a standby, or default_transaction_read_only, as during
 * a failover), the server's disk full, an I/O error. The server rolled the statement back, so
 * these are "not now" too; what the filesystem shows (diagnose) is for SQLite's file only.
 */
const PG_CODES: Array<[string, StorageKind]> = [
  ['25006', 'read-only'],
  ['53100', 'full'],
  ['58030', 'io'],
];
/** A raw query's failure names its SQLSTATE in the message only (Prisma's P2010). */
const PG_RAW = new RegExp(`Code: \`(${PG_CODES.map(([c]) => c).join('|')})\``);

export interface StorageFault {
  kind: StorageKind;
  /** The driver's result code, e.g. SQLITE_IOERR_WRITE, or PostgreSQL's SQLSTATE, e.g. 25006. */
  code: string;
}

const BY_CODE: Array<[RegExp, StorageKind]> = [
  [/^SQLITE_READONLY/, 'read-only'],
  [/^SQLITE_FULL/, 'full'],
  [/^SQLITE_CANTOPEN/, 'cannot-open'],
  [/^SQLITE_IOERR/, 'io'],
  ...PG_CODES.map(([code, kind]): [RegExp, StorageKind] => [new RegExp(`^${code}$`), kind]),
];

/** SQLite's own texts, for an error that carries no code (wrapped by another layer). */
const BY_TEXT: Array<[RegExp, StorageKind, string]> = [
  [/attempt to write a readonly database/i, 'read-only', 'SQLITE_READONLY'],
  [/database or disk is full/i, 'full', 'SQLITE_FULL'],
  [/unable to open database file/i, 'cannot-open', 'SQLITE_CANTOPEN'],
  [/disk I\/O error/i, 'io', 'SQLITE_IOERR'],
];

/** Below this much free space the disk is reported full: SQLite needs room for a journal as well as the pages. */
export const LOW_SPACE_BYTES = 1024 * 1024;

/**
 * When a COMMIT fails (SQLITE_IOERR_WRITE: the file turned read-only; SQLITE_FULL), Prisma then
 * tries to roll the transaction back, finds it marked committed, and throws P2028 "A rollback
 * cannot be executed on a committed transaction" instead: the cause is lost. transactions.ts
 * notes the failed COMMIT here so that P2028 is recognised as the storage fault it stands for.
 * On globalThis, like the runtime: route handlers are bundled apart from the Prisma client.
 */
const COMMIT_KEY = Symbol.for('labforge.db.failedCommit');
type CommitSlot = { [COMMIT_KEY]?: { fault: StorageFault; at: number } };
const COMMIT_MEMORY_MS = 5000;

export function noteFailedCommit(e: unknown): void {
  const fault = storageFault(e);
  if (fault) (globalThis as CommitSlot)[COMMIT_KEY] = { fault, at: Date.now() };
}

function maskedByRollback(message: string): StorageFault | undefined {
  if (!/rollback cannot be executed on a committed transaction/i.test(message)) return undefined;
  const last = (globalThis as CommitSlot)[COMMIT_KEY];
  return last && Date.now() - last.at < COMMIT_MEMORY_MS ? last.fault : undefined;
}

/** The storage fault in `e` (or its causes), if that is what it is. */
export function storageFault(e: unknown): StorageFault | undefined {
  let x: unknown = e;
  for (let depth = 0; x && typeof x === 'object' && depth < 4; depth++, x = (x as { cause?: unknown }).cause) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string') for (const [re, kind] of BY_CODE) if (re.test(code)) return { kind, code };
    const message = (x as { message?: unknown }).message;
    if (typeof message === 'string') {
      const named = /\b(SQLITE_(?:READONLY|FULL|CANTOPEN|IOERR)\w*)/.exec(message)?.[1] ?? PG_RAW.exec(message)?.[1];
      if (named) return { kind: BY_CODE.find(([re]) => re.test(named))![1], code: named };
      for (const [re, kind, c] of BY_TEXT) if (re.test(message)) return { kind, code: c };
      const masked = maskedByRollback(message);
      if (masked) return masked;
    }
  }
  return undefined;
}

const writable = (p: string) =>
  fs.promises.access(p, fs.constants.W_OK).then(
    () => true,
    () => false,
  );

/** Free bytes for an unprivileged writer on the filesystem holding `dir` (undefined when unknown). */
async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await fs.promises.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * What is wrong where the database lives, seen from the filesystem: the file or
 * its folder not writable (SQLite makes its journal beside the file), or the
 * disk (nearly) full. Undefined when nothing is. Cheap: two access(2) and a statfs(2).
 */
export async function diagnose(file: string): Promise<{ kind: StorageKind; reason: string } | undefined> {
  const dir = path.dirname(file);
  if (fs.existsSync(file) && !(await writable(file))) return { kind: 'read-only', reason: `its database is read-only (${file})` };
  if (!(await writable(dir))) return { kind: 'read-only', reason: `the folder of its database is read-only (${dir})` };
  const free = await freeBytes(dir);
  if (free !== undefined && free < LOW_SPACE_BYTES) return { kind: 'full', reason: `the disk holding its database is full (${dir}: ${kib(free)} free)` };
  return undefined;
}

/** Why the database cannot be written, for people: the filesystem's view first, else the fault's. */
export async function storageReason(fault: StorageFault, file: string | undefined): Promise<string> {
  const seen = file ? await diagnose(file) : undefined;
  if (seen) return seen.reason;
  const where = file ? ` (${file})` : '';
  switch (fault.kind) {
    case 'read-only':
      return `its database is read-only${where}`;
    case 'full':
      return `the disk holding its database is full${file ? ` (${path.dirname(file)})` : ''}`;
    case 'cannot-open':
      return `it cannot open its database files${where}`;
    case 'io':
      return `its disk reported an input/output error${where}`;
  }
}

/** The message a client gets (with 503): what happened, that nothing was saved, what to do. */
export function storageMessage(reason: string): string {
  return `the platform cannot save right now: ${reason}; nothing was saved \u2014 try again in a moment`;
}

const kib = (n: number) => (n < 1024 ? `${n} bytes` : `${Math.floor(n / 1024)} KiB`);

/**
 * A conditional write another process made first: a row it was about to create exists (P2002), or
 * the row it expected has changed (P2025). Between replicas racing for the same cursor this is the
 * design working, not a fault: the loser reads again.
 */
export function lostRace(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'P2002' || code === 'P2025';
}
