import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';

// The CLI (generate, migrate deploy) uses the same JS driver adapter as the app,
// so nothing downloads an engine binary.
const dataDir = path.resolve(process.env.LABFORGE_DATA_DIR ?? './data');
const url = process.env.DATABASE_URL ?? `file:${path.join(dataDir, 'labforge.db')}`;
process.env.DATABASE_URL ??= url;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  async adapter() {
    return new PrismaBetterSQLite3({ url });
  },
});
