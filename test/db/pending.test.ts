/**
 * migrate() starts the Prisma CLI only when the database lacks a migration (lib/db/pending.ts):
 * read from `_prisma_migrations` on a real database (SQLite here, PostgreSQL in the `postgres`
 * lane). A new database, a migration recorded as failed or rolled back, and a migration folder the
 * table does not list all count as pending; a database with the whole set does not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasPendingMigrations } from '../../lib/db/pending';
import { PRISMA_FILES, providerOf } from '../../lib/db/provider';
import { databaseForThisFile } from '../support/database';

const ROOT = path.resolve(__dirname, '../..');
const t = databaseForThisFile('pending');

describe('pending migrations', () => {
  it('none on a migrated database; all on one that does not exist yet', async () => {
    expect(await hasPendingMigrations(t.url, ROOT)).toBe(false);
    if (providerOf(t.url) === 'sqlite') expect(await hasPendingMigrations(`file:${path.join(t.dir, 'none.db')}`, ROOT)).toBe(true);
  });

  it('a migration folder the table does not list is pending', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-pending-root-'));
    try {
      const set = path.join(root, PRISMA_FILES[providerOf(t.url)].migrations);
      fs.cpSync(path.join(ROOT, PRISMA_FILES[providerOf(t.url)].migrations), set, { recursive: true });
      expect(await hasPendingMigrations(t.url, root)).toBe(false);
      fs.mkdirSync(path.join(set, '29991231000000_later'));
      expect(await hasPendingMigrations(t.url, root)).toBe(false); // a folder without migration.sql is not a migration
      fs.writeFileSync(path.join(set, '29991231000000_later', 'migration.sql'), 'SELECT 1;');
      expect(await hasPendingMigrations(t.url, root)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a migration recorded as unfinished or rolled back sends the database to the CLI', async () => {
    const [{ migration_name: name }] = await t.db.$queryRaw<Array<{ migration_name: string }>>`SELECT migration_name FROM _prisma_migrations LIMIT 1`;
    await t.db.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = finished_at WHERE migration_name = ${name}`;
    expect(await hasPendingMigrations(t.url, ROOT)).toBe(true);
    await t.db.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = NULL, finished_at = NULL WHERE migration_name = ${name}`;
    expect(await hasPendingMigrations(t.url, ROOT)).toBe(true);
  });
});
