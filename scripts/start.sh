#!/bin/bash
# Installs whatever is missing, builds the web app if the sources changed, and
# starts Labforge on PORT (default 3000) with its embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-machine.sh
if [ ! -f .next/BUILD_ID ] || [ -n "$(find app components lib next.config.ts package-lock.json -newer .next/BUILD_ID -print -quit)" ]; then
  printf '\033[1;34m==>\033[0m %s\n' "Building the web app"
  npx next build
fi
exec node bin/labforge.mjs serve
