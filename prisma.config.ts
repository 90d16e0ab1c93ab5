import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { migrationAdapter } from './lib/db/migration-adapters';
import { PRISMA_FILES, providerOf } from './lib/db/provider';

// The CLI (generate, migrate deploy) uses the same JS driver adapter as the app,
// so nothing downloads an engine binary. DATABASE_URL picks the provider, and with it
// the schema and the migration set (lib/db/provider.ts); lib/db/migration-adapters.ts
// gives the adapter what Prisma's schema engine needs. `npm run db:generate` makes both
// clients by running generate once with a placeholder URL of each provider (generate
// connects to nothing): `--schema` with the other provider's schema would not match the
// adapter here, and the CLI then fetches a query engine instead.
const dataDir = path.resolve(process.env.LABFORGE_DATA_DIR ?? './data');
const url = process.env.DATABASE_URL ?? `file:${path.join(dataDir, 'labforge.db')}`;
process.env.DATABASE_URL ??= url;
const provider = providerOf(url);

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: PRISMA_FILES[provider].schema,
  migrations: { path: PRISMA_FILES[provider].migrations },
  async adapter() {
    return migrationAdapter(url);
  },
});
