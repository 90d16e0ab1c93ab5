import { defineConfig } from 'vitest/config';
import path from 'node:path';

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['test/**/*.test.ts'],
    // Faults that restart the Docker engine run alone, later (vitest.faults.config.ts).
    exclude: ['**/node_modules/**', 'test/faults/**'],
    environment: 'node',
    // Integration tests drive a real Docker engine: give them room, and keep files serial
    // per worker so two suites do not fight over the 2 cores.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
  },
});
