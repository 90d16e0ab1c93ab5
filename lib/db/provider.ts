/**
 * Which database a URL names. SQLite is the embedded default (`file:…`, and anything that is not
 * PostgreSQL, as before PostgreSQL existed); `postgresql://` or `postgres://` selects PostgreSQL.
 * prisma.config.ts, createDb and migrate() all decide from here, so the CLI's migrations and the
 * server's client cannot disagree about the provider.
 */
import path from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export function providerOf(databaseUrl: string): Provider {
  return /^postgres(ql)?:\/\//i.test(databaseUrl) ? 'postgresql' : 'sqlite';
}

/** The database file of a `file:` URL (absolute), or undefined for a server database. */
export function databaseFile(databaseUrl: string | undefined): string | undefined {
  if (!databaseUrl?.startsWith('file:')) return undefined;
  return path.resolve(databaseUrl.slice('file:'.length).split('?')[0]);
}

/** Each provider's schema and migration set, relative to the project root (prisma/postgresql/ is generated: scripts/postgres-schema.ts). */
export const PRISMA_FILES: Record<Provider, { schema: string; migrations: string }> = {
  sqlite: { schema: 'prisma/schema.prisma', migrations: 'prisma/migrations' },
  postgresql: { schema: 'prisma/postgresql/schema.prisma', migrations: 'prisma/postgresql/migrations' },
};

/** The provider of each client createDb made: raw SQL that differs per provider (raw.ts) asks here. */
const clients = new WeakMap<object, Provider>();

export function rememberProvider(client: object, provider: Provider): void {
  clients.set(client, provider);
}

/**
 * A client's provider. One createDb did not make (a transaction's client) answers from Prisma's
 * own `_activeProvider` (internal, hence only the fallback); failing both, SQLite, the default.
 */
export function clientProvider(client: object): Provider {
  const known = clients.get(client);
  if (known) return known;
  return (client as { _activeProvider?: unknown })._activeProvider === 'postgresql' ? 'postgresql' : 'sqlite';
}
