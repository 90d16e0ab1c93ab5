/**
 * The Prisma client over the better-sqlite3 driver adapter (no engine binary),
 * and `migrate()`, which brings a database to the schema on start with no manual step.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/client';
import { withSafeTransactions } from './transactions';

export type Db = PrismaClient;
export type { Session as SessionRow, ChallengeProgress as ProgressRow, CheckRun as CheckRunRow } from './generated/client';

export function createDb(databaseUrl: string): Db {
  if (databaseUrl.startsWith('file:')) fs.mkdirSync(path.dirname(databaseUrl.slice('file:'.length)), { recursive: true });
  // Transactions wrapped so a disk-full or read-only fault cannot leave them locked (transactions.ts).
  return new PrismaClient({ adapter: withSafeTransactions(new PrismaBetterSQLite3({ url: databaseUrl })) });
}

/** Applies pending migrations with the Prisma CLI (`migrate deploy`), which uses prisma.config.ts. */
export async function migrate(databaseUrl: string, cwd = process.cwd()): Promise<void> {
  if (databaseUrl.startsWith('file:')) fs.mkdirSync(path.dirname(databaseUrl.slice('file:'.length)), { recursive: true });
  const require = createRequire(import.meta.url);
  const cli = require.resolve('prisma/build/index.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd,
      env: { ...process.env, DATABASE_URL: databaseUrl },
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
