/**
 * The driver adapters the Prisma CLI migrates with (prisma.config.ts): the app's own, with what
 * Prisma's JS schema engine (engine "js": no binary to download) needs of them and 6.19's adapters
 * do not give. Only the CLI uses these; the app's queries go through plain adapters (client.ts).
 *
 * PostgreSQL, every command: the schema engine reads the system catalogs, and @prisma/adapter-pg
 * refuses columns of the catalogs' own types (`name` first), so `migrate deploy` failed with
 * "Column type 'name' could not be deserialized from the database" (prisma/orm#27403, open).
 * node-postgres hands such values over as strings already: they are reported as text.
 *
 * The shadow database (`migrate diff --from-migrations`, which replays a migration set to compare
 * it with a schema; test/db/schema-sync.test.ts): the engine sends each migration as one
 * statement. better-sqlite3 refuses several statements in one, so on SQLite a statement without
 * parameters runs as a script; node-postgres takes them as they are. And adapter-pg's own shadow
 * database is not one when given a URL (node-postgres lets `connectionString` win over the
 * `database` it adds, so the migrations were replayed into the real database): it is made here.
 */
import crypto from 'node:crypto';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { providerOf } from './provider';

/** Catalog types adapter-pg does not map, read as text: "char", name, int2vector, regproc, oidvector, pg_node_tree, regclass, regtype. */
const AS_TEXT = new Set([18, 19, 22, 24, 30, 194, 2205, 2206]);
const TEXT_OID = 25;

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;
type SqliteAdapter = Awaited<ReturnType<PrismaBetterSQLite3['connect']>>;
type Result = { fields?: Array<{ dataTypeID: number }> };
/** adapter-pg's connection and transactions run every query through performIO, which queryRaw calls on `this`. */
type PgQueryable = { performIO: (query: unknown) => Promise<Result | Result[]> };

function catalogTypesAsText<T>(queryable: T): T {
  const q = queryable as unknown as PgQueryable;
  const io = q.performIO.bind(q);
  // An own property shadows the prototype's method.
  q.performIO = async (query) => {
    const result = await io(query);
    // A script of several statements answers one result per statement.
    for (const r of Array.isArray(result) ? result : [result]) for (const f of r.fields ?? []) if (AS_TEXT.has(f.dataTypeID)) f.dataTypeID = TEXT_OID;
    return result;
  };
  return queryable;
}

function readingCatalogs(adapter: PgAdapter): PgAdapter {
  catalogTypesAsText(adapter);
  const start = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => catalogTypesAsText(await start(isolationLevel));
  return adapter;
}

class PostgresForMigrations extends PrismaPg {
  constructor(private readonly url: string) {
    super({ connectionString: url });
  }

  async connect(): Promise<PgAdapter> {
    return readingCatalogs(await super.connect());
  }

  async connectToShadowDb(): Promise<PgAdapter> {
    const main = await super.connect();
    const name = `prisma_migrate_shadow_db_${crypto.randomUUID()}`;
    await main.executeScript(`CREATE DATABASE "${name}"`);
    const url = new URL(this.url);
    url.pathname = `/${name}`;
    const shadow = readingCatalogs(await new PrismaPg({ connectionString: url.toString() }).connect());
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await main.executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await main.dispose();
    };
    return shadow;
  }
}

class SqliteForMigrations extends PrismaBetterSQLite3 {
  async connectToShadowDb(): Promise<SqliteAdapter> {
    const shadow = await super.connectToShadowDb();
    const executeRaw = shadow.executeRaw.bind(shadow);
    shadow.executeRaw = async (query) => {
      if (query.args.length) return executeRaw(query);
      await shadow.executeScript(query.sql);
      return 0;
    };
    return shadow;
  }
}

/** The adapter factory prisma.config.ts hands the CLI for `url`. */
export function migrationAdapter(url: string): PrismaPg | PrismaBetterSQLite3 {
  return providerOf(url) === 'postgresql' ? new PostgresForMigrations(url) : new SqliteForMigrations({ url });
}
