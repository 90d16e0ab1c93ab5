import { defineConfig } from 'vitest/config';
import os from 'node:os';
import path from 'node:path';

const alias = { '@': path.resolve(import.meta.dirname) };
const NO_DOCKER = 'unix:///nonexistent/labforge-unit-tests-use-no-docker.sock';
/** The PostgreSQL server of the `postgres` lane (scripts/postgres.sh prints it; the test command exports it). */
const POSTGRES_URL = process.env.LABFORGE_TEST_DATABASE_URL || 'postgresql://labforge:labforge@127.0.0.1:5432/labforge';

/**
 * Two lanes, one run. `unit`: everything that needs no container engine (`npm run test:unit`);
 * its tests see DOCKER_HOST pointing nowhere, so a unit test that reaches for Docker fails here,
 * on every machine, instead of passing where an engine happens to run. `docker`: the suites named
 * `*.docker.test.ts`, which drive a real engine (`npm run test:docker`). `npx vitest run` (the test
 * command) runs both in one pool, so CPU-bound unit files fill the time Docker suites spend
 * waiting on containers. Faults that restart the engine run alone, later (vitest.faults.config.ts).
 */
export default defineConfig({
  resolve: { alias },
  test: {
    environment: 'node',
    // Integration tests drive a real Docker engine: give them room.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // One worker more than cores: a Docker suite waits on the engine part of the time, and the
    // third file fills it (2 cores: the whole run 613 s at 175 % CPU → 542 s at 196 %).
    maxWorkers: os.availableParallelism() + 1,
    env: { NODE_ENV: 'test' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // One process per worker for all its files (each file still gets fresh modules and its
          // own mocks): a fresh process per file cost about a third of the lane's CPU on 2 cores.
          // The Docker lane keeps a process per file: its suites start servers and engines.
          isolate: false,
          include: ['test/**/*.test.ts'],
          // PostgreSQL only (the `postgres` lane): nothing of theirs runs on SQLite.
          exclude: [
            '**/node_modules/**',
            'test/faults/**',
            '**/*.docker.test.ts',
            'test/jobs/pg-boss.test.ts',
            'test/db/locks.test.ts',
            'test/db/migrate-together.test.ts',
          ],
          // SQLite here even when the test command exported a PostgreSQL URL for the `postgres` lane.
          env: { NODE_ENV: 'test', DOCKER_HOST: NO_DOCKER, LABFORGE_TEST_DATABASE_URL: '' },
        },
      },
      {
        extends: true,
        test: {
          name: 'docker',
          include: ['test/**/*.docker.test.ts'],
          exclude: ['**/node_modules/**', 'test/faults/**'],
          // SQLite for every suite, but the replicas' one (test/server/replicas.docker.test.ts) needs the PostgreSQL server.
          env: { NODE_ENV: 'test', LABFORGE_TEST_DATABASE_URL: '', LABFORGE_REPLICAS_DATABASE_URL: POSTGRES_URL },
        },
      },
      {
        // The tests that exercise the database, again on a real PostgreSQL (each file gets a fresh
        // database: test/support/database.ts). Without a server they say "skipped: ..." (postgres-setup.ts).
        extends: true,
        test: {
          name: 'postgres',
          include: [
            'test/db/**/*.test.ts',
            'test/environments/shared-pool.test.ts',
            'test/accounts/accounts.test.ts',
            'test/analytics/db.test.ts',
            'test/auth/api-tokens.test.ts',
            'test/auth/tokens-cli.test.ts',
            'test/http/grader-routes.test.ts',
            'test/http/grader-sessions.test.ts',
            'test/http/openapi.test.ts',
            'test/instructors/routes.test.ts',
            'test/jobs/pg-boss.test.ts',
            'test/lti/*.test.ts',
            'test/observability/metrics.test.ts',
            'test/results/results.test.ts',
            'test/replicas/*.test.ts',
            'test/sessions/handover.test.ts',
            'test/sessions/provisioning-retry.test.ts',
            'test/sessions/provisioning-queue.test.ts',
            'test/terminals/tokens.test.ts',
            'test/webhooks/*.test.ts',
          ],
          setupFiles: ['test/support/postgres-setup.ts'],
          env: {
            NODE_ENV: 'test',
            DOCKER_HOST: NO_DOCKER,
            LABFORGE_TEST_DATABASE_URL: POSTGRES_URL,
          },
        },
      },
    ],
  },
});
