#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (Debian's postgresql packages).
#
#   eval "$(bash scripts/postgres-test.sh start)"   # prints: export GTFLOW_TEST_POSTGRES_DSN=... PGTEST_DIR=...
#   bash scripts/postgres-test.sh stop "$PGTEST_DIR"
#
# The cluster lives in a fresh temporary folder, listens on 127.0.0.1 on a free port (and on a
# unix socket inside that folder), trusts local connections only, and runs as the `postgres`
# user when started by root (initdb refuses root). Nothing outside the folder is touched.
set -euo pipefail

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  echo "no PostgreSQL server found: apt-get install -y postgresql" >&2; exit 1
}

as_owner() {  # run a command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    bin=$(bindir)
    dir=$(mktemp -d /tmp/gtflow-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "export GTFLOW_TEST_POSTGRES_DSN=postgresql://postgres@127.0.0.1:$port/postgres PGTEST_DIR=$dir"
    ;;
  stop)
    dir=${2:?usage: postgres-test.sh stop DIR}
    bin=$(bindir)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres-test.sh start | stop DIR" >&2; exit 2 ;;
esac
