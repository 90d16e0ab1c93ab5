/**
 * Replicas starting together on a new PostgreSQL database (lib/db/client.ts, migrate()): each one
 * migrates at start, and all of them must come up, however long the first one's migration holds
 * Prisma's own lock (its CLI keeps it about 10 s, the time Prisma waits for it). Runs in the
 * `postgres` lane only.
 */
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../lib/db/client';
import { hasPendingMigrations } from '../../lib/db/pending';
import { testServerUrl, withDatabase } from '../support/database';

const ROOT = path.resolve(__dirname, '../..');
const server = testServerUrl();

describe.skipIf(!server)('migrate() from replicas starting together', () => {
  it('three at once on a new database: each returns, the set is applied once', async () => {
    const name = `labforge_test_${process.pid}_together`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      const url = withDatabase(server!, name);
      await Promise.all([migrate(url, ROOT), migrate(url, ROOT), migrate(url, ROOT)]);
      expect(await hasPendingMigrations(url, ROOT)).toBe(false);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const applied = await db.query('SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name HAVING count(*) > 1');
      await db.end();
      expect(applied.rows).toEqual([]); // no migration applied twice
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
  }, 120_000);
});
