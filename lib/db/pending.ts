/**
 * Whether a database lacks any migration of its provider's set, read straight from Prisma's own
 * `_prisma_migrations` table. migrate() asks first: the Prisma CLI costs about 2.6 s of CPU to
 * start and say "nothing to do", on every server start and every CLI command that opens the
 * database. Only a database with every migration finished (none failed, none rolled back) skips
 * it; anything else (a new or empty database, a failed migration, a table that cannot be read)
 * goes to the CLI, which applies or reports it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PRISMA_FILES, databaseFile, providerOf } from './provider';

const APPLIED = 'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations';

interface Row {
  migration_name: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** The migration folders of the database's provider, by name. */
function migrationSet(databaseUrl: string, root: string): string[] {
  const dir = path.join(root, PRISMA_FILES[providerOf(databaseUrl)].migrations);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name);
}

async function appliedRows(databaseUrl: string): Promise<Row[]> {
  if (providerOf(databaseUrl) === 'postgresql') {
    const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
    await c.connect();
    try {
      return (await c.query<Row>(APPLIED)).rows;
    } finally {
      await c.end();
    }
  }
  const file = databaseFile(databaseUrl);
  if (!file) throw new Error('not a file: URL');
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(APPLIED).all() as Row[];
  } finally {
    conn.close();
  }
}

/** True unless every migration of the set is recorded as finished and none failed or was rolled back. */
export async function hasPendingMigrations(databaseUrl: string, root: string): Promise<boolean> {
  let rows: Row[];
  try {
    rows = await appliedRows(databaseUrl);
  } catch {
    return true; // no file, no table, no answer: the CLI decides, and says why if it fails
  }
  if (rows.some((r) => r.finished_at === null || r.rolled_back_at !== null)) return true;
  const done = new Set(rows.map((r) => r.migration_name));
  return migrationSet(databaseUrl, root).some((name) => !done.has(name));
}
