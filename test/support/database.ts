/**
 * The database a test file gets, migrated as a server's would be: a SQLite file in the test's temp
 * dir by default, or, when LABFORGE_TEST_DATABASE_URL names a PostgreSQL server (the `postgres`
 * vitest project, scripts/postgres.sh), a fresh database of its own there. Every test that needs a
 * database comes through here, so the same tests run on both providers. Not a test file.
 *
 * On PostgreSQL, `migrate deploy` runs once per migration set into a template database (under an
 * advisory lock, so parallel workers wait for one another), and each test file's database is a
 * copy of it: CREATE DATABASE … TEMPLATE takes a fraction of a second, a migration seconds.
 * On SQLite likewise: the first test process to need it migrates a template file (named by the
 * migration set's digest, moved into place atomically), and each test file gets a copy of it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createDb, migrate, type Db } from '../../lib/db/client';
import { PRISMA_FILES, providerOf, type Provider } from '../../lib/db/provider';
import { processAlive } from '../../lib/base/process';

const ROOT = path.resolve(__dirname, '../..');
const TEMPLATE = 'labforge_test_template';
/** Test databases are named `labforge_test_<pid>_<n>`: whose they were is known when they are left over. */
const PREFIX = 'labforge_test_';
const LOCK_KEY = 0x1abf07e; // pg_advisory_lock key: the template's migration and copies
let made = 0;

/** The PostgreSQL server tests should use, or undefined for SQLite. */
export function testServerUrl(): string | undefined {
  const url = process.env.LABFORGE_TEST_DATABASE_URL;
  return url && providerOf(url) === 'postgresql' ? url : undefined;
}

export interface TestDatabase {
  db: Db;
  url: string;
  /** A temporary folder of the file's own (the SQLite file is in it). */
  dir: string;
}

/**
 * A migrated database for the test file that calls this at its top level: opened before its tests,
 * disconnected and its folder removed after them. The fields are set once `beforeAll` has run.
 */
export function databaseForThisFile(name: string): TestDatabase {
  const t = {} as TestDatabase;
  beforeAll(async () => {
    t.dir = fs.mkdtempSync(path.join(os.tmpdir(), `labforge-${name}-`));
    t.url = await migratedDatabase(t.dir);
    t.db = createDb(t.url);
  });
  afterAll(async () => {
    await t.db?.$disconnect();
    if (t.dir) fs.rmSync(t.dir, { recursive: true, force: true });
  });
  return t;
}

/** A migrated database for one test file: `file:<dir>/test.db`, or a new database on the test server. */
export async function migratedDatabase(dir: string): Promise<string> {
  const server = testServerUrl();
  if (!server) {
    const file = path.join(dir, 'test.db');
    fs.copyFileSync(await sqliteTemplate(), file);
    return `file:${file}`;
  }
  return copyOfTemplate(server);
}

/** `url` with another database name (the credentials, host and options kept). */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs `fn` on a connection of its own to `server` (a server's admin database, or one database). */
export async function withClient<T>(server: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Whether the test server answers, and why not (for the `skipped:` line). */
export async function serverProblem(server: string): Promise<string | undefined> {
  try {
    await withClient(server, (c) => c.query('SELECT 1'));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A SQLite file with every migration applied, made once per migration set on this machine. */
async function sqliteTemplate(): Promise<string> {
  const template = path.join(os.tmpdir(), `labforge-test-template-${migrationsDigest('sqlite')}.db`);
  if (fs.existsSync(template)) return template;
  const draft = `${template}.${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  await migrate(`file:${draft}`, ROOT);
  if (fs.existsSync(`${draft}-wal`)) throw new Error(`the migrated template ${draft} left a write-ahead log: copying the file alone would lose it`);
  fs.renameSync(draft, template); // atomic: another process's template, if it won the race, is as good
  return template;
}

/** A digest of a provider's migration set: its template is migrated again when it changes. */
function migrationsDigest(provider: Provider): string {
  const dir = path.join(ROOT, PRISMA_FILES[provider].migrations);
  const h = crypto.createHash('sha256');
  for (const name of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) h.update(name).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

async function copyOfTemplate(server: string): Promise<string> {
  const name = `${PREFIX}${process.pid}_${++made}_${crypto.randomBytes(3).toString('hex')}`;
  await withClient(server, async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await dropLeftovers(c, server);
      await freshTemplate(c, server);
      await c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE}"`);
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
  return withDatabase(server, name);
}

/** The template, migrated with the current set (its digest kept as the database's comment). */
async function freshTemplate(c: pg.Client, server: string): Promise<void> {
  const digest = migrationsDigest('postgresql');
  const { rows } = await c.query<{ comment: string | null }>('SELECT shobj_description(oid, $2) AS comment FROM pg_database WHERE datname = $1', [
    TEMPLATE,
    'pg_database',
  ]);
  if (rows[0]?.comment === digest) return;
  if (rows.length) await c.query(`DROP DATABASE "${TEMPLATE}" WITH (FORCE)`);
  // C collation: text sorts by bytes, as on SQLite, whatever the server's locale.
  await c.query(`CREATE DATABASE "${TEMPLATE}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  await migrate(withDatabase(server, TEMPLATE), ROOT);
  await c.query(`COMMENT ON DATABASE "${TEMPLATE}" IS '${digest}'`);
}

/**
 * Databases of test processes that have ended (their pid is gone), dropped: a file's database
 * lives as long as its worker, and nothing else removes it. Only on a server on this machine,
 * where those pids mean something.
 */
async function dropLeftovers(c: pg.Client, server: string): Promise<void> {
  if (!['localhost', '127.0.0.1', '[::1]', ''].includes(new URL(server).hostname)) return;
  const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${PREFIX}%`]);
  for (const { datname } of rows) {
    const pid = Number(/^labforge_test_(\d+)_/.exec(datname)?.[1]);
    if (!pid || processAlive(pid)) continue;
    await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}
