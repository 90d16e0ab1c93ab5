/**
 * The two providers stay in step: prisma/postgresql/schema.prisma is exactly what
 * scripts/postgres-schema.ts makes of prisma/schema.prisma, each provider's migration set ends
 * where its schema is (`prisma migrate diff --exit-code`, which replays the set into a shadow
 * database), and every migration after PostgreSQL's baseline exists in both sets, by name.
 *
 * Replaying PostgreSQL's set needs a server, even for the script from nothing (Prisma's JS schema
 * engine works through a connection): the `postgres` project runs this file with
 * LABFORGE_TEST_DATABASE_URL (scripts/postgres.sh); the unit lane, on SQLite, says `skipped:`.
 * The shadow databases are temporary: an in-memory SQLite one, a PostgreSQL one made and dropped
 * on the server (lib/db/migration-adapters.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRISMA_FILES } from '../../lib/db/provider';
import { POSTGRES_SCHEMA, SQLITE_SCHEMA, postgresSchema } from '../../scripts/postgres-schema';
import { serverProblem, testServerUrl } from '../support/database';

const ROOT = path.resolve(__dirname, '../..');
/** PostgreSQL's first migration: the SQLite set's end state as of its migration of the same name. */
const PG_BASELINE = '20261202000000_init';
const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');

/** Runs the Prisma CLI in the project, DATABASE_URL choosing prisma.config.ts's provider. */
function prisma(args: string[], databaseUrl: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

const migrationsOf = (provider: 'sqlite' | 'postgresql') =>
  fs
    .readdirSync(path.join(ROOT, PRISMA_FILES[provider].migrations), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** `--from-migrations` against a schema: exit 0 when they match, 2 with the difference otherwise. */
const drift = (provider: 'sqlite' | 'postgresql', databaseUrl: string) =>
  prisma(
    ['migrate', 'diff', '--from-migrations', PRISMA_FILES[provider].migrations, '--to-schema-datamodel', PRISMA_FILES[provider].schema, '--exit-code'],
    databaseUrl,
  );

describe('PostgreSQL next to SQLite', () => {
  it('the PostgreSQL schema is the SQLite one with the provider and the client folder swapped (npm run db:schema)', () => {
    const committed = fs.readFileSync(POSTGRES_SCHEMA, 'utf8');
    expect(committed, 'prisma/postgresql/schema.prisma is stale: run npm run db:schema').toBe(postgresSchema(fs.readFileSync(SQLITE_SCHEMA, 'utf8')));
    expect(committed).toContain('provider = "postgresql"');
  });

  it('each migration set is locked to its provider', () => {
    for (const provider of ['sqlite', 'postgresql'] as const) {
      const lock = fs.readFileSync(path.join(ROOT, PRISMA_FILES[provider].migrations, 'migration_lock.toml'), 'utf8');
      expect(lock).toMatch(new RegExp(`^provider = "${provider}"$`, 'm'));
    }
  });

  it("after PostgreSQL's baseline, both sets have the same migrations: a schema change adds one to each", () => {
    const sqlite = migrationsOf('sqlite');
    const postgresql = migrationsOf('postgresql');
    expect(postgresql[0]).toBe(PG_BASELINE);
    expect(sqlite).toContain(PG_BASELINE.replace(/_init$/, '_instructors'));
    expect(postgresql.slice(1)).toEqual(sqlite.filter((n) => n.slice(0, 14) > PG_BASELINE.slice(0, 14)));
  });

  it("SQLite's migrations end where its schema is", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-schema-sync-'));
    try {
      const r = drift('sqlite', `file:${path.join(dir, 'shadow.db')}`);
      expect(r.status, r.out).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("PostgreSQL's migrations end where its schema is", async (ctx) => {
    const server = testServerUrl();
    const problem = server ? await serverProblem(server) : 'LABFORGE_TEST_DATABASE_URL is not set (the postgres project sets it)';
    if (problem) {
      console.log(`skipped: replaying PostgreSQL's migrations needs a server: ${problem}`);
      ctx.skip();
    }
    const r = drift('postgresql', server!);
    expect(r.status, r.out).toBe(0);
  });
});
