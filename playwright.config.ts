import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/support/chromium';
import { ADMIN } from './e2e/support/accounts';

const PORT = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // A safety net, not a speed goal: two specs share the machine's cores with a dozen containers.
  timeout: 300_000,
  expect: { timeout: 30_000 },
  // Two specs at a time: each mostly waits on containers, and the suite takes half as long.
  workers: Number(process.env.E2E_WORKERS ?? 2),
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    // A failed spec keeps its trace (DOM snapshots of every step), without the screencast: its
    // frames cost Chromium as much CPU as the specs themselves (measured: 43.9 → 24.8 CPU-s for
    // core.spec.ts). The failure screenshot below still shows the last frame.
    trace: { mode: 'retain-on-failure', screenshots: false },
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    command: `rm -rf data/e2e && node bin/labforge.mjs serve`,
    // Author mode lets a test start at a later challenge; e2e/labs holds test-only labs.
    env: {
      PORT: String(PORT),
      LABFORGE_DATA_DIR: 'data/e2e',
      LABFORGE_LOG_LEVEL: 'warn',
      LABFORGE_LABS_DIR: 'labs:e2e/labs',
      LABFORGE_AUTHOR_MODE: '1',
      LABFORGE_ADMIN_EMAIL: ADMIN.email,
      LABFORGE_ADMIN_PASSWORD: ADMIN.password,
    },
    url: `http://localhost:${PORT}/api/v1/health`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
