#!/bin/bash
# The whole test suite, from a fresh machine: installs what is missing, then
# typecheck, code lint and format, layer rules, lab lint, a production build, unit + integration tests (real
# Docker, real ptys, a real server process) and the Playwright end-to-end tests
# in Debian's Chromium, then the fault tests that restart the Docker engine (alone). Prints one
# closing line: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
say() { printf '\n\033[1;34m==>\033[0m %s \033[2m(%d s into the run)\033[0m\n' "$*" "$SECONDS"; }
mkdir -p data/reports

# Native modules later (a phase below): their compile overlaps the checks instead of delaying them.
bash scripts/setup-machine.sh --with-browser --with-postgres --no-images --natives-later

# The checks that need no engine, the production build, the host images and the native modules'
# compile are independent, and each leaves a core idle much of the time (tsc, ESLint and the
# compile are single-threaded, the image build waits on the Debian mirror): they run side by
# side, and each one's output is shown whole once it ends, in this order. The first that fails
# fails the run, after all have ended.
declare -A pid title
phases=()
phase() { # phase KEY TITLE COMMAND...: starts it in the background, output in data/reports/KEY.log
  local key=$1
  title[$key]=$2
  shift 2
  phases+=("$key")
  (
    t0=$SECONDS rc=0
    "$@" || rc=$?
    echo "$((SECONDS - t0))" >"data/reports/$key.seconds"
    exit $rc
  ) >"data/reports/$key.log" 2>&1 &
  pid[$key]=$!
}
# The compile is the longest of them and the tests wait for it: it starts first (while PostgreSQL
# starts), and the others run at a lower priority, so it has a core whenever it can use one.
phase natives "Native modules (better-sqlite3, node-pty: compiled)" bash scripts/setup-machine.sh --natives

# A real PostgreSQL for the `postgres` vitest project: the database tests again, on a server
# (scripts/postgres.sh installs Debian's package if missing, starts it and prints its URL).
say "PostgreSQL"
LABFORGE_TEST_DATABASE_URL=$(bash scripts/postgres.sh)
export LABFORGE_TEST_DATABASE_URL

# shellcheck disable=SC2317 # called through phase
scaffold_and_lint() {
  local dir
  dir=$(mktemp -d)
  node bin/labforge.mjs new demo --dir "$dir"
  node bin/labforge.mjs lint "$dir/demo"
  rm -rf "$dir"
}
say "Checks, production build, host images and native modules, side by side"
phase typecheck "Typecheck" nice -n 10 npx tsc --noEmit -p .
phase lint "Lint code (ESLint: eslint.config.mjs, Prettier: .prettierrc.json)" nice -n 10 npm run --silent lint
phase layers "Layers (dependency-cruiser: .dependency-cruiser.cjs)" nice -n 10 npm run --silent lint:layers
phase labs "Lint labs" nice -n 10 node bin/labforge.mjs lint labs/*
phase scaffold "Scaffold a lab with labforge new and lint it (labforge test on it: test/authoring/new.docker.test.ts)" scaffold_and_lint
phase build "Production build" nice -n 10 npx next build
# The image build's scratch (a debootstrap root with /proc mounted in it for a while) goes outside the
# project: `next build` walks the project's folders, and it never came back from that /proc (it grew
# to 7 GB in 9 minutes; 20 s without it). The images themselves live in the engine.
images_scratch=$(mktemp -d /tmp/labforge-images-XXXXXX)
phase images "Host images (debootstrap and docker import, the first time only)" env LABFORGE_DATA_DIR="$images_scratch" node bin/labforge.mjs images build
failed=""
for key in "${phases[@]}"; do
  rc=0
  wait "${pid[$key]}" || rc=$?
  verdict=$([ $rc = 0 ] && echo ok || echo "FAILED, exit $rc")
  printf '\n\033[1;34m==>\033[0m %s: %s \033[2m(took %s s)\033[0m\n' "${title[$key]}" "$verdict" "$(cat "data/reports/$key.seconds" 2>/dev/null || echo '?')"
  cat "data/reports/$key.log"
  [ $rc = 0 ] || failed=${failed:-${title[$key]}}
done
rm -rf --one-file-system "$images_scratch"
if [ -n "$failed" ]; then
  echo "test: stopped because \"$failed\" failed (its output is above)" >&2
  exit 1
fi

say "Unit tests (DOCKER_HOST pointing nowhere: vitest.config.ts), the database tests on PostgreSQL, and Docker integration tests, one run"
unit=0
npx vitest run --reporter=default --reporter=json --outputFile.json=data/reports/vitest.json || unit=$?

say "End-to-end tests (Chromium)"
e2e=0
PLAYWRIGHT_JSON_OUTPUT_NAME=data/reports/e2e.json npx playwright test --reporter=list,json || e2e=$?

# Last and alone: faults that restart the machine's Docker engine or start a second one (vitest.faults.config.ts). Each
# test says "skipped: <why>" where it cannot run safely (a dockerd this script did not start).
say "Fault tests (restart the Docker engine; a second engine beside it)"
# The e2e server is gone by now: whatever Labforge containers are left are its leftovers (a failed
# spec's session). Said and removed, so the restart test runs instead of refusing to stop them.
left=$(docker ps -aq --filter label=labforge.managed=1)
if [ -n "$left" ]; then
  echo "removing $(echo "$left" | wc -l) container(s) left by the earlier phases"
  echo "$left" | xargs docker rm -f >/dev/null
fi
faults=0
npx vitest run --config vitest.faults.config.ts --reporter=default --reporter=json --outputFile.json=data/reports/faults.json || faults=$?

printf '\nthe whole run took %d s\n' "$SECONDS"
node scripts/summarize-tests.mjs data/reports/e2e.json data/reports/vitest.json data/reports/faults.json
exit $(( unit || e2e || faults ))
