#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL cluster on a free loopback port.
#   bash .ci/with-postgres.sh npm test
# Installs Debian's postgresql package when no server binaries exist, creates the cluster in a
# temporary directory owned by the postgres user (initdb and pg_ctl refuse to run as root),
# exports TEST_DATABASE_URL (a superuser URL; the tests create their own non-owner app role)
# and stops and removes the cluster however the command ends. LINEAL_PG_OPTIONS adds server
# options (the benchmark loads pg_stat_statements with it).
set -euo pipefail

log() { printf '[with-postgres] %s\n' "$*" >&2; }

find_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
  fi
}

PG_BIN=$(find_pg_bin)
if [ -z "$PG_BIN" ]; then
  log "no PostgreSQL server binaries: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(find_pg_bin)
fi
[ -n "$PG_BIN" ] || { log "PostgreSQL server binaries not found after install"; exit 1; }

as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  as_pg() { runuser -u postgres -- "$@"; }
fi

PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
WORK=$(mktemp -d /tmp/lineal-pg.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"

stop_cluster() {
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap stop_cluster EXIT INT TERM

log "initdb ($PG_BIN) in $WORK, port $PORT"
as_pg "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --no-locale >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log" >&2; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -t 60 \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -k $WORK -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${LINEAL_PG_OPTIONS:-}" \
  start >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }

export LINEAL_TEST_PG_BIN="$PG_BIN"
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready: $TEST_DATABASE_URL"
set +e
"$@"
status=$?
set -e
exit $status
