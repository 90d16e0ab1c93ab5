/**
 * The SQL that differs per provider, one function per need with a branch for each: everything
 * else goes through Prisma's model API (or raw SQL both providers read alike, with quoted
 * identifiers), so code above lib/db never asks which database it has.
 */
import type { Db } from './client';
import { clientProvider } from './provider';

/**
 * A write that changes nothing, through the server's own connection, so a failure means the
 * database cannot be written now (the health probe, health.ts).
 *
 * SQLite: user_version set to itself (a journal made, a page written, the journal removed).
 * PostgreSQL: an UPDATE that matches no row (refused at once in a read-only transaction or on a
 * standby, what a failed-over or read-only database gives) in a statement that also takes a
 * transaction id, so its commit writes and flushes a WAL record (a full WAL disk fails it).
 */
export async function writeProbe(db: Db): Promise<void> {
  if (clientProvider(db) === 'postgresql') {
    await db.$queryRawUnsafe(
      `WITH w AS (UPDATE "Lab" SET "slug" = "slug" WHERE false RETURNING 1) SELECT txid_current()::text AS "xid", (SELECT count(*) FROM w)::int AS "n"`,
    );
    return;
  }
  const [row] = await db.$queryRawUnsafe<{ user_version: bigint | number }[]>('PRAGMA user_version');
  await db.$executeRawUnsafe(`PRAGMA user_version = ${Number(row?.user_version ?? 0)}`);
}

/**
 * The highest Event id below which no insert is still in flight: readers of the log that keep a
 * cursor (webhooks/fanout.ts, lti/score-outbox.ts) read up to it and never past an id that could
 * still appear below their cursor.
 *
 * SQLite serialises writes, so ids become visible in order: the highest is settled. PostgreSQL
 * takes ids from a sequence when a row is inserted, and transactions commit in any order, so a
 * lower id can appear after a higher one was read. A SHARE lock on the table waits for every
 * transaction that inserted into it and holds new inserters back while the highest id is read:
 * every id allocated until then is committed or rolled back, and later ones are higher. The lock
 * lasts that one read.
 */
export async function settledEventTop(db: Db): Promise<number> {
  if (clientProvider(db) === 'postgresql') {
    return db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('LOCK TABLE "Event" IN SHARE MODE');
      return (await tx.event.aggregate({ _max: { id: true } }))._max.id ?? 0;
    });
  }
  return (await db.event.aggregate({ _max: { id: true } }))._max.id ?? 0;
}
