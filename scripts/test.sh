#!/bin/bash
# The whole test suite, from a fresh machine: installs what is missing, then
# typecheck, lab lint, unit + integration tests (real Docker), a production
# build and the Playwright end-to-end tests in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1;34m==>\033[0m %s\n' "$*"; }

bash scripts/setup-machine.sh --with-browser

say "Typecheck"
npx tsc --noEmit -p .

say "Lint labs"
node bin/labforge.mjs lint labs/*

say "Unit and integration tests"
npx vitest run

say "Production build"
npx next build

say "End-to-end tests (Chromium)"
npx playwright test
