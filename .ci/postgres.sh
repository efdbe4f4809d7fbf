#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the portability tests and print its URL.
# Usage: eval "$(bash .ci/postgres.sh start)"   /   bash .ci/postgres.sh stop
set -euo pipefail
PGPORT="${ICP_MCP_PG_PORT:-54329}"
PGDATA="${ICP_MCP_PGDATA:-/tmp/icp-mcp-pgdata}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  if command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) 1>&2
    BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  fi
fi
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case "${1:-start}" in
  start)
    if ! as_pg "$BIN/pg_ctl -D $PGDATA status" >/dev/null 2>&1; then
      rm -rf "$PGDATA"; mkdir -p "$PGDATA"; [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
      as_pg "$BIN/initdb -D $PGDATA -U postgres --auth=trust -E UTF8" >/dev/null
      as_pg "$BIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -o '-c listen_addresses=127.0.0.1 -p $PGPORT -k /tmp' -w start" >/dev/null
    fi
    echo "export ICP_MCP_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
    ;;
  stop)
    as_pg "$BIN/pg_ctl -D $PGDATA -m fast stop" >/dev/null 2>&1 || true
    ;;
esac
