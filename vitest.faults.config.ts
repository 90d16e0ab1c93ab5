import { defineConfig } from 'vitest/config';
import path from 'node:path';

/**
 * Faults that take the whole machine's engine down (test/faults/): run alone, after everything
 * else (scripts/test.sh), never inside the parallel default run, which excludes them.
 */
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['test/faults/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    env: { NODE_ENV: 'test' },
  },
});
