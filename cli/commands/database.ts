/**
 * For commands that manage the platform's records (tokens, …): the server's database, opened the
 * way the server opens it, and closed whatever happens. A refusal the command expects (a taken
 * name, an unknown record) is a line on stderr and exit 1, not a stack trace.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/base/config';
import { createDb, migrate, type Db } from '../../lib/db/client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Like the server: one configuration, the same database, brought to the current schema first. */
export async function openDatabase(): Promise<Db> {
  const config = loadConfig();
  await migrate(config.databaseUrl, ROOT);
  return createDb(config.databaseUrl);
}

/** Runs `fn` on the database; an error of the class `refused` is printed as `labforge <command>: message` (exit 1). */
export async function withDatabase(
  command: string,
  open: () => Promise<Db>,
  refused: abstract new (...args: never[]) => Error,
  fn: (db: Db) => Promise<number>,
): Promise<number> {
  const db = await open();
  try {
    return await fn(db);
  } catch (e) {
    if (!(e instanceof refused)) throw e;
    process.stderr.write(`labforge ${command}: ${e.message}\n`);
    return 1;
  } finally {
    await db.$disconnect();
  }
}
