#!/bin/bash
# A local PostgreSQL for the tests (the `postgres` vitest project) and for trying Labforge on
# PostgreSQL: Debian's package, installed when missing; its cluster started with pg_ctlcluster (no
# systemd needed); a `labforge` role with CREATEDB (the tests make a database per test file) and a
# `labforge` database. Idempotent, and only a connection when the server already answers.
# Prints the URL last, alone on stdout:
#   postgresql://labforge:labforge@127.0.0.1:5432/labforge
# Usage: scripts/postgres.sh        (root or sudo; the cluster's port is Debian's, 5432 unless changed)
set -euo pipefail

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "postgres.sh: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
# From /: the postgres user may not enter the project's folder.
as_postgres() { (cd / && if [ -z "$SUDO" ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi); }

ROLE=labforge PASSWORD=labforge DB=labforge
url() { echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$1/$DB"; }

# The newest installed cluster (Debian's package makes `main` for its version), as "version name port".
cluster() { pg_lsclusters --no-header 2>/dev/null | sort -V -k1,1 | awk '{print $1, $2, $3}' | tail -1; }

# Fast path: the server answers and the role can sign in.
read -r version name port <<<"$(cluster || true)"
if [ -n "${port:-}" ] && PGPASSWORD=$PASSWORD psql -qAtX -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DB" -c 'SELECT 1' >/dev/null 2>&1; then
  url "$port"
  exit 0
fi

# 1. The package (and a cluster: the package makes one on install; made here if it was dropped).
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ]; then
  say "Installing PostgreSQL (Debian's package)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
read -r version name port <<<"$(cluster || true)"
if [ -z "${version:-}" ]; then
  version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)
  say "Creating the PostgreSQL $version cluster"
  $SUDO pg_createcluster "$version" main >/dev/null
  read -r version name port <<<"$(cluster)"
fi

# 2. Started (pg_ctlcluster runs it as the postgres user), then awaited.
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  say "Starting PostgreSQL $version/$name on port $port"
  $SUDO pg_ctlcluster "$version" "$name" start >&2
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p "$port" || { echo "postgres.sh: PostgreSQL did not start: see /var/log/postgresql/postgresql-$version-$name.log" >&2; exit 1; }
fi

# 3. The role and its database (through the postgres user's local socket: peer authentication).
say "Making the $ROLE role and database"
as_postgres psql -qAtX -p "$port" -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END\$\$;
SQL
if [ -z "$(as_postgres psql -qAtX -p "$port" -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  as_postgres createdb -p "$port" -O "$ROLE" "$DB"
fi
url "$port"
