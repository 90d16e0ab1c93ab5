import { defineConfig } from 'vitest/config';
import path from 'node:path';

const alias = { '@': path.resolve(import.meta.dirname) };

/**
 * Two lanes. `unit`: everything that needs no container engine (`npm run test:unit`; the test
 * command runs it with DOCKER_HOST pointing nowhere, which proves it). `docker`: the suites named
 * `*.docker.test.ts`, which drive a real engine. `npx vitest run` runs both. Faults that restart
 * the engine run alone, later (vitest.faults.config.ts).
 */
export default defineConfig({
  resolve: { alias },
  test: {
    environment: 'node',
    // Integration tests drive a real Docker engine: give them room.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['**/node_modules/**', 'test/faults/**', '**/*.docker.test.ts'] } },
      { extends: true, test: { name: 'docker', include: ['test/**/*.docker.test.ts'], exclude: ['**/node_modules/**', 'test/faults/**'] } },
    ],
  },
});
