/**
 * Transactions that end even when their COMMIT or ROLLBACK fails.
 *
 * Prisma's better-sqlite3 adapter (6.19) serialises transactions with a mutex
 * that only its transaction's commit()/rollback() release, and Prisma calls
 * those after its own `COMMIT` / `ROLLBACK` statement succeeded. When the disk
 * fills or the file turns read-only, SQLite may roll a transaction back by
 * itself (SQLITE_FULL, SQLITE_IOERR); Prisma's ROLLBACK then fails with "cannot
 * rollback - no transaction is active", the mutex is never released, and every
 * later transaction (Prisma runs upserts and updateMany in one) waits forever:
 * the platform hung after a disk-full until it was restarted (seen in
 * test/reliability/database.docker.test.ts). A failed COMMIT may instead leave the
 * transaction open, and the next BEGIN fails "within a transaction". (Tried:
 * the database file made immutable under an updateMany; once it was writable
 * again, the next updateMany never returned.)
 *
 * So this wraps the adapter's startTransaction: its own lock, released exactly
 * once when the transaction is over however it ended; a failed COMMIT or
 * ROLLBACK makes sure SQLite's transaction is over too (a ROLLBACK, whose own
 * failure only means there was nothing left to undo); a BEGIN meeting a
 * transaction left open ends it first. Everything else is the adapter's own.
 */
import type { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { noteFailedCommit } from './faults';

type Adapter = Awaited<ReturnType<PrismaBetterSQLite3['connect']>>;
type Transaction = Awaited<ReturnType<Adapter['startTransaction']>>;
type Query = Parameters<Adapter['executeRaw']>[0];
type Factory = Pick<PrismaBetterSQLite3, 'provider' | 'adapterName' | 'connect' | 'connectToShadowDb'>;

const statement = (sql: string): Query => ({ sql, args: [], argTypes: [] });
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String((e as { cause?: { message?: string } })?.cause?.message ?? e));

/** The adapter factory, whose adapters' transactions always end (see above). */
export function withSafeTransactions(factory: PrismaBetterSQLite3): Factory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => safeAdapter(await factory.connect()),
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
}

function safeAdapter(adapter: Adapter): Adapter {
  let tail: Promise<void> = Promise.resolve();
  /** A FIFO lock: resolves with its release once every earlier holder released. */
  const lock = (): Promise<() => void> => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const before = tail;
    tail = before.then(() => held);
    return before.then(() => release);
  };
  const run = (sql: string) => adapter.executeRaw(statement(sql));

  async function begin(): Promise<void> {
    try {
      await run('BEGIN');
    } catch (e) {
      if (!/within a transaction/i.test(messageOf(e))) throw e;
      // Left open by a COMMIT that failed: it did not happen, so undo it and start afresh.
      await run('ROLLBACK');
      await run('BEGIN');
    }
  }

  async function startTransaction(isolationLevel?: Parameters<Adapter['startTransaction']>[0]): Promise<Transaction> {
    if (isolationLevel && isolationLevel !== 'SERIALIZABLE') return adapter.startTransaction(isolationLevel); // its own error
    const release = await lock();
    try {
      await begin();
    } catch (e) {
      release();
      throw e;
    }
    let open = true;
    const end = async () => {
      if (!open) return;
      open = false;
      release();
    };
    return {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      options: { usePhantomQuery: false },
      queryRaw: (q) => adapter.queryRaw(q),
      async executeRaw(q) {
        try {
          return await adapter.executeRaw(q);
        } catch (e) {
          const verb = q.sql.trim().toUpperCase();
          if (verb !== 'COMMIT' && verb !== 'ROLLBACK') throw e;
          await run('ROLLBACK').catch(() => undefined); // fails when SQLite already rolled back: nothing to undo
          await end();
          if (verb === 'ROLLBACK') return 0; // rolled back, as asked
          noteFailedCommit(e); // Prisma reports it as P2028 (faults.ts)
          throw e;
        }
      },
      commit: end,
      rollback: end,
    };
  }

  // Bound to the adapter: its methods use private fields, which a plain prototype copy would not reach.
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === 'startTransaction') return startTransaction;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
