/**
 * prisma/postgresql/schema.prisma is made from prisma/schema.prisma, the one schema people edit:
 * Prisma ties a schema (and the client generated from it) to one provider, so PostgreSQL gets a
 * copy with the provider and the client's folder swapped, nothing else. The copy is committed
 * (migrations are made from it); test/db/schema-sync.test.ts fails when it is stale.
 *
 *   npm run db:schema              rewrites the copy (npx tsx scripts/postgres-schema.ts)
 *   npm run db:schema -- --check   exit 1 when the copy differs from what it would be
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SQLITE_SCHEMA = path.join(ROOT, 'prisma/schema.prisma');
export const POSTGRES_SCHEMA = path.join(ROOT, 'prisma/postgresql/schema.prisma');

const HEADER =
  '// GENERATED from prisma/schema.prisma by scripts/postgres-schema.ts: edit that file, then run\n' +
  '// `npm run db:schema` (test/db/schema-sync.test.ts fails while this copy is stale).\n';

/** Each change, with the text it must find exactly once: a schema reshaped beyond them fails loudly, not silently. */
const SWAPS: Array<[RegExp, string]> = [
  [/^(\s*provider\s*=\s*)"sqlite"$/m, '$1"postgresql"'],
  [/^(\s*output\s*=\s*)"\.\.\/lib\/db\/generated"$/m, '$1"../../lib/db/generated-postgresql"'],
];

/** The PostgreSQL schema for a SQLite schema's text. */
export function postgresSchema(sqlite: string): string {
  let out = sqlite;
  for (const [re, to] of SWAPS) {
    const found = sqlite.match(new RegExp(re.source, re.flags + 'g'))?.length ?? 0;
    if (found !== 1) throw new Error(`prisma/schema.prisma: expected one line matching ${re} (found ${found}); update scripts/postgres-schema.ts`);
    out = out.replace(re, to);
  }
  return HEADER + out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const want = postgresSchema(fs.readFileSync(SQLITE_SCHEMA, 'utf8'));
  const have = fs.existsSync(POSTGRES_SCHEMA) ? fs.readFileSync(POSTGRES_SCHEMA, 'utf8') : '';
  if (process.argv.includes('--check')) {
    if (want !== have) {
      console.error('prisma/postgresql/schema.prisma is stale: run npm run db:schema');
      process.exit(1);
    }
  } else if (want !== have) {
    fs.mkdirSync(path.dirname(POSTGRES_SCHEMA), { recursive: true });
    fs.writeFileSync(POSTGRES_SCHEMA, want);
    console.log('wrote prisma/postgresql/schema.prisma');
  }
}
