#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests that need settings the stack's server does not have
# (wal_level = replica, say): `start DIR PORT [-c name=value ...]` initialises DIR (trust
# authentication, loopback only) and starts it; `stop DIR` stops it and removes DIR. As root
# the server runs as the `postgres` user, as scripts/stack does it.
set -euo pipefail
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$PG_BIN" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cmd=$1 dir=$2
case $cmd in
  start)
    port=$3; shift 3
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off $*" \
      >/dev/null 2>&1 || { cat "$dir/postgres.log" >&2; exit 1; }
    ;;
  stop)
    [ ! -d "$dir/data" ] || as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT [-c name=value ...] | stop DIR" >&2; exit 2 ;;
esac
