#!/bin/bash
# Another Docker engine on this machine, beside the usual one: for trying a fleet of engines
# (LABFORGE_DOCKER_ENGINES, docs/deploy.md) and for its test (test/faults/engine-fleet.test.ts).
# It has its own socket, data root, exec root (its own containerd) and address pool, and no default
# bridge: Labforge gives every session a bridge of its own anyway. Both engines keep iptables on;
# each manages the rules of its own bridges.
# Usage: scripts/extra-engine.sh start NAME [POOL]   prints its URL, unix:///run/labforge-engines/NAME.sock
#        scripts/extra-engine.sh stop NAME [--purge] (--purge: its containers, networks and data go too)
set -euo pipefail

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
action=${1:-} name=${2:-}
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,15}$ ]] || { echo "usage: $0 start|stop NAME (a-z, 0-9, -) [POOL | --purge]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "extra-engine: run as root (dockerd needs it)" >&2; exit 1; }
command -v dockerd >/dev/null || { echo "extra-engine: no dockerd on this machine (apt-get install docker.io)" >&2; exit 1; }

RUN=/run/labforge-engines
DATA=/var/lib/labforge-engines/$name
SOCK=$RUN/$name.sock PID=$RUN/$name.pid LOG=/var/log/labforge-engine-$name.log

running() { [ -f "$PID" ] && kill -0 "$(cat "$PID")" 2>/dev/null; }

case "$action" in
  start)
    # Not the usual engine's pool (scripts/setup-machine.sh takes 10.213.0.0/16).
    pool=${3:-10.214.0.0/16}
    if ! running; then
      say "Starting Docker engine $name ($SOCK, data in $DATA, networks from $pool)"
      mkdir -p "$RUN" "$DATA"
      nohup dockerd --host "unix://$SOCK" --pidfile "$PID" --data-root "$DATA" --exec-root "$RUN/$name" \
        --bridge none --default-address-pool "base=$pool,size=24" >"$LOG" 2>&1 &
    fi
    for _ in $(seq 1 120); do DOCKER_HOST="unix://$SOCK" docker info >/dev/null 2>&1 && break; sleep 0.5; done
    DOCKER_HOST="unix://$SOCK" docker info >/dev/null 2>&1 || { echo "extra-engine: $name did not start: see $LOG" >&2; exit 1; }
    echo "unix://$SOCK"
    ;;
  stop)
    if running && [ "${3:-}" = --purge ]; then
      # Its containers and networks first, while it runs: a stopped engine leaves its bridges behind.
      export DOCKER_HOST="unix://$SOCK"
      docker ps -aq | xargs -r docker rm -f >/dev/null
      docker network prune -f >/dev/null
    fi
    if running; then
      pid=$(cat "$PID")
      say "Stopping Docker engine $name (pid $pid)"
      kill -TERM "$pid"
      for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && { echo "extra-engine: $name (pid $pid) did not stop within 60 s" >&2; exit 1; }
    fi
    if [ "${3:-}" = --purge ]; then
      # What dockerd left mounted under its roots (nothing, after a clean stop) goes first.
      grep -oE " ($DATA|$RUN/$name)[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
      rm -rf "$DATA" "${RUN:?}/$name" "$SOCK" "$PID"
    fi
    ;;
  *)
    echo "usage: $0 start|stop NAME" >&2
    exit 2
    ;;
esac
