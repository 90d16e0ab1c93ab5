/**
 * Setup file of the `postgres` vitest project (the database tests again, on PostgreSQL): where no
 * server answers at LABFORGE_TEST_DATABASE_URL, each file says so with a `skipped:` line and its
 * tests are skipped, counted as such, never passed. Their hooks then get SQLite databases
 * (test/support/database.ts), so a file's setup still runs and nothing fails for want of a server.
 */
import { beforeEach } from 'vitest';
import { serverProblem, testServerUrl } from './database';

const server = testServerUrl();
const problem = server ? await serverProblem(server) : 'LABFORGE_TEST_DATABASE_URL names no postgresql:// server';
if (problem) {
  console.log(`skipped: postgresql not running (scripts/postgres.sh starts one)\n  ${problem}`);
  delete process.env.LABFORGE_TEST_DATABASE_URL;
  beforeEach((ctx) => ctx.skip());
}
