/**
 * The Prisma client over a JS driver adapter (no engine binary): better-sqlite3 for SQLite, the
 * embedded default, or node-postgres when DATABASE_URL is `postgresql://…` (provider.ts). And
 * `migrate()`, which brings a database to the schema on start with no manual step.
 *
 * Prisma generates one client per provider (prisma/schema.prisma and its generated copy
 * prisma/postgresql/schema.prisma, same models). Code above lib/db sees one type, `Db`, the
 * SQLite client's: the PostgreSQL client has the same model API, and no code relies on what only
 * one provider offers (case-insensitive filters, skipDuplicates). Raw SQL that differs per
 * provider lives in raw.ts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';
import { PrismaClient as PostgresClient } from './generated-postgresql/client';
import { withAdvisoryLock } from './locks';
import { hasPendingMigrations } from './pending';
import { databaseFile, providerOf, rememberProvider } from './provider';
import { withSafeTransactions } from './transactions';

export type Db = PrismaClient;
export type { Session as SessionRow, ChallengeProgress as ProgressRow, CheckRun as CheckRunRow } from './generated/client';

/** SQLite makes its file but not the folder holding it. */
function makeFolderFor(databaseUrl: string): void {
  const file = databaseFile(databaseUrl);
  if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
}

export function createDb(databaseUrl: string): Db {
  if (providerOf(databaseUrl) === 'postgresql') {
    // The same models through the PostgreSQL client; its API is the SQLite one's plus what no code here uses.
    const db = new PostgresClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) }) as unknown as Db;
    rememberProvider(db, 'postgresql');
    return db;
  }
  makeFolderFor(databaseUrl);
  // Transactions wrapped so a disk-full or read-only fault cannot leave them locked (transactions.ts).
  const db = new PrismaClient({ adapter: withSafeTransactions(new PrismaBetterSQLite3({ url: databaseUrl })) });
  rememberProvider(db, 'sqlite');
  return db;
}

/**
 * Applies pending migrations with the Prisma CLI (`migrate deploy`), which uses prisma.config.ts:
 * DATABASE_URL selects the provider's schema and migration set there. On PostgreSQL, replicas
 * starting together take turns under an advisory lock and migrate once. A database that has
 * every migration already is left alone without starting the CLI (pending.ts).
 */
export async function migrate(databaseUrl: string, cwd = process.cwd()): Promise<void> {
  makeFolderFor(databaseUrl);
  if (!(await hasPendingMigrations(databaseUrl, cwd))) return;
  if (providerOf(databaseUrl) !== 'postgresql') return runMigrateDeploy(databaseUrl, cwd);
  // Replicas starting together: Prisma's own lock gives up after 10 s, and its CLI holds that lock
  // for about as long (until its pool lets the connection go), so a second replica could fail. Ours
  // waits as long as it takes; whoever gets it second finds nothing left to apply.
  await withAdvisoryLock(databaseUrl, 'migrate', async () => {
    if (await hasPendingMigrations(databaseUrl, cwd)) await runMigrateDeploy(databaseUrl, cwd);
  });
}

async function runMigrateDeploy(databaseUrl: string, cwd: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('prisma/build/index.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd,
      // CHECKPOINT_DISABLE: the CLI's update check would start a child that calls checkpoint.prisma.io.
      env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`database migration failed (prisma migrate deploy exited ${code}):\n${out.trim()}`)),
    );
  });
}
