#!/usr/bin/env bash
# A throwaway MariaDB server for tests that need settings the stack's server does not have
# (no TLS, say): `start DIR PORT [--option ...]` initialises DIR and starts mariadbd on
# 127.0.0.1:PORT with grant tables off (any user logs in, no password: loopback only, for
# tests), waiting until it answers; `stop DIR` stops it and removes DIR.
set -euo pipefail
cmd=$1 dir=$2
user_opt=(); [ "$(id -u)" -ne 0 ] || user_opt=(--user=root)
case $cmd in
  start)
    port=$3; shift 3
    mkdir -p "$dir"
    mariadb-install-db --no-defaults --datadir="$dir/data" "${user_opt[@]}" --skip-test-db \
      >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    mariadbd --no-defaults --datadir="$dir/data" "${user_opt[@]}" --port="$port" \
      --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" --pid-file="$dir/mariadbd.pid" \
      --log-error="$dir/mariadb.log" --skip-name-resolve --skip-grant-tables \
      --innodb-buffer-pool-size=32M "$@" >/dev/null 2>&1 &
    echo $! >"$dir/pid"
    for ((i = 0; i < 240; i++)); do
      mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot --skip-ssl \
        --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1 && exit 0
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.25
    done
    cat "$dir/mariadb.log" >&2; exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      p=$(cat "$dir/pid"); kill "$p" 2>/dev/null || true
      for ((i = 0; i < 120; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$p" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT [--option ...] | stop DIR" >&2; exit 2 ;;
esac
