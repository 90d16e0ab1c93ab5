// Lint: Next's rules (React, hooks, Core Web Vitals) and typescript-eslint's recommended set.
// Run by the test command (`npm run lint`); a disabled rule says why next to it.
import { defineConfig, globalIgnores } from 'eslint/config';
import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';
import prettier from 'eslint-config-prettier/flat';

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  prettier,
  globalIgnores(['.next/**', 'lib/db/generated/**', 'lib/db/generated-postgresql/**', 'data/**', 'test-results/**', 'playwright-report/**', 'next-env.d.ts']),
]);
