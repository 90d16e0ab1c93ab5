#!/bin/bash
# Brings a fresh Debian machine (Node 20, root or sudo) to what Labforge needs,
# and does nothing for what is already there: apt packages, a running Docker
# engine, npm dependencies, the Prisma client and the built-in host images.
# Usage: scripts/setup-machine.sh [--with-browser] [--with-postgres] [--no-images] [--natives-later]
#   --natives-later: leave the native modules (better-sqlite3, node-pty) uncompiled; the caller
#                    runs `scripts/setup-machine.sh --natives` when it can overlap it with other work
#        scripts/setup-machine.sh --restart-dockerd [--check]   (only that: see restart_dockerd)
#        scripts/setup-machine.sh --stop-dockerd | --start-dockerd    (the two halves of a restart)
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0 with_postgres=0 images=1 restart=0 check_only=0 natives=now
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    --with-postgres) with_postgres=1 ;;
    --natives-later) natives=later ;;
    --natives) natives=only ;;
    --no-images) images=0 ;;
    --restart-dockerd) restart=1 ;;
    --stop-dockerd) restart=stop ;;
    --start-dockerd) restart=start ;;
    --check) check_only=1 ;;
    *) echo "setup-machine: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-machine: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

DOCKERD_LOG=/var/log/labforge-dockerd.log

# Restarts the dockerd this script started, with the same command line (the engine fault tests,
# test/faults/, use it). A dockerd that writes elsewhere (systemd's, one started by hand) is the
# operator's: refused with exit 3 and the reason. --check: only say whether it could. The two
# halves run alone too: --stop-dockerd keeps the command line (DOCKERD_CMD) for --start-dockerd.
DOCKERD_CMD=/run/labforge-dockerd.cmd
stop_dockerd() {
  local pid
  pid=$($SUDO cat /var/run/docker.pid 2>/dev/null || true)
  if [ -z "$pid" ] || ! $SUDO test -d "/proc/$pid"; then echo "no running dockerd (no live pid in /var/run/docker.pid)" >&2; return 3; fi
  if [ "$($SUDO readlink "/proc/$pid/fd/1")" != "$DOCKERD_LOG" ]; then
    echo "dockerd (pid $pid) was not started by scripts/setup-machine.sh (its output does not go to $DOCKERD_LOG): not restarting it" >&2
    return 3
  fi
  [ "$check_only" = 1 ] && return 0
  $SUDO sh -c "tr '\\0' ' ' </proc/$pid/cmdline >$DOCKERD_CMD"
  say "Stopping dockerd (pid $pid): $($SUDO cat "$DOCKERD_CMD")"
  $SUDO kill -TERM "$pid"
  for _ in $(seq 1 120); do $SUDO test -d "/proc/$pid" || break; sleep 0.5; done
  if $SUDO test -d "/proc/$pid"; then echo "dockerd (pid $pid) did not stop within 60 s" >&2; return 1; fi
}
start_dockerd() {
  $SUDO test -f "$DOCKERD_CMD" || { echo "no saved dockerd command line ($DOCKERD_CMD): stop it with --stop-dockerd first" >&2; return 1; }
  $SUDO sh -c "nohup $($SUDO cat "$DOCKERD_CMD") >>$DOCKERD_LOG 2>&1 &"
  for _ in $(seq 1 120); do $SUDO docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "dockerd did not come back within 60 s: see $DOCKERD_LOG" >&2
  return 1
}
restart_dockerd() {
  stop_dockerd || return $?
  [ "$check_only" = 1 ] && return 0
  start_dockerd
}
case "$restart" in
  1) restart_dockerd; exit $? ;;
  stop) stop_dockerd; exit $? ;;
  start) start_dockerd; exit $? ;;
esac

# The native modules compile from source (no prebuilt binaries for Linux reach us from the npm
# registry alone): better-sqlite3 compiles SQLite, most of a minute of one core. Only the
# tests and the server load them; typecheck, lint, the production build and the CLI's lint, new
# and images commands do not, so the test command overlaps this compile with those.
NATIVES=(better-sqlite3 node-pty)
natives_built() {
  [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] && [ -f node_modules/node-pty/build/Release/pty.node ]
}
build_natives() {
  natives_built && return 0
  say "Compiling the native modules (${NATIVES[*]})"
  # -O2, SQLite's own default, instead of better-sqlite3's -O3: better-sqlite3 compiles in 51 CPU-s
  # instead of 77 (gcc keeps the last -O; node-gyp's make appends CFLAGS after the module's flags).
  CFLAGS="${CFLAGS:-} -O2" npm rebuild --no-audit --no-fund "${NATIVES[@]}"
}
if [ "$natives" = only ]; then
  build_natives
  exit $?
fi

# npm dependencies first, in the background, without their install scripts: fetching and
# unpacking needs neither apt's packages nor the engine, so it overlaps steps 1 and 2 and is
# awaited at step 3. The only install scripts Labforge needs are the native modules' compiles
# (build_natives); the others are optional speed-ups of ssh2 (dockerode's SSH transport works
# without them), Prisma's engine download (Labforge uses no engine binary) and version notices.
npm_pid="" npm_log=""
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "Installing npm dependencies (in the background)"
  npm_log=$(mktemp)
  npm ci --ignore-scripts --no-audit --no-fund >"$npm_log" 2>&1 &
  npm_pid=$!
fi

# 1. Debian packages (only the missing ones).
packages=(docker.io debootstrap socat iproute2 tcpdump xfsprogs)
[ "$with_browser" = 1 ] && packages+=(chromium fonts-noto-color-emoji shellcheck)
# Only installed here (while npm works), so that scripts/postgres.sh finds it: it does the rest.
[ "$with_postgres" = 1 ] && packages+=(postgresql)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. A running Docker engine. When we start it ourselves, its data root is XFS mounted with
#    project quotas (a sparse loop file), so that Labforge can limit each learner host's disk
#    (overlay2 can only there). A kernel without XFS quotas refuses the mount: then dockerd
#    starts as usual and Labforge warns that disks are not limited (docs/security.md).
#    (btrfs qgroups were tried: Docker's subvolume deletions keep marking them inconsistent,
#    and limits then stop holding.)
QUOTA_IMG=/var/lib/labforge/docker-xfs.img
QUOTA_ROOT=/var/lib/labforge/docker
# Sets ROOT_OPTS to the dockerd options for a quota-capable data root, or fails.
ROOT_OPTS=""
quota_data_root() {
  [ "${LABFORGE_DOCKER_QUOTA:-1}" = 1 ] || return 1
  if ! mountpoint -q "$QUOTA_ROOT"; then
    $SUDO mkdir -p "$QUOTA_ROOT"
    [ -f "$QUOTA_IMG" ] || { $SUDO truncate -s "${LABFORGE_DOCKER_DISK:-64G}" "$QUOTA_IMG" && $SUDO mkfs.xfs -q -f "$QUOTA_IMG"; } || return 1
    if ! $SUDO mount -o loop,pquota "$QUOTA_IMG" "$QUOTA_ROOT"; then
      $SUDO rm -f "$QUOTA_IMG"
      return 1
    fi
  fi
  [ "$(findmnt -no FSTYPE "$QUOTA_ROOT")" = xfs ] || return 1
  ROOT_OPTS="--data-root $QUOTA_ROOT --storage-driver overlay2"
}
if ! $SUDO docker info >/dev/null 2>&1; then
  say "Starting dockerd"
  mkdir -p data
  if ! quota_data_root >/var/log/labforge-quota.log 2>&1; then
    ROOT_OPTS=""
    echo "setup-machine: no quota-capable data root for Docker (see /var/log/labforge-quota.log): learner disks will not be limited" >&2
  fi
  # Every lab session has a network of its own: Docker's default address pools hold about 30
  # (15 /16s and 16 /20s), so ask for /24s out of one /16 instead: 256 networks.
  POOL_OPTS="--default-address-pool base=${LABFORGE_DOCKER_POOL:-10.213.0.0/16},size=24"
  $SUDO sh -c "nohup dockerd $ROOT_OPTS $POOL_OPTS >$DOCKERD_LOG 2>&1 &"
  for _ in $(seq 1 60); do $SUDO docker info >/dev/null 2>&1 && break; sleep 0.5; done
  $SUDO docker info >/dev/null 2>&1 || { echo "dockerd did not start: see $DOCKERD_LOG" >&2; exit 1; }
fi

# 3. npm dependencies: started at step 1 (see there), awaited here.
if [ -n "$npm_pid" ]; then
  npm_rc=0
  wait "$npm_pid" || npm_rc=$?
  cat "$npm_log"
  rm -f "$npm_log"
  [ "$npm_rc" = 0 ] || { echo "setup-machine: npm ci failed (exit $npm_rc)" >&2; exit 1; }
fi
if [ "$natives" = now ]; then build_natives; fi

# 4. Prisma clients, SQLite's and PostgreSQL's (generated code is not committed).
if [ ! -f lib/db/generated/client.ts ] || [ prisma/schema.prisma -nt lib/db/generated/client.ts ] ||
  [ ! -f lib/db/generated-postgresql/client.ts ] || [ prisma/postgresql/schema.prisma -nt lib/db/generated-postgresql/client.ts ]; then
  say "Generating the Prisma clients"
  npm run --silent db:generate >/dev/null
fi

# 5. Built-in host images (debootstrap + docker import; about a minute the first time).
if [ "$images" = 1 ]; then
  node bin/labforge.mjs images build
fi
