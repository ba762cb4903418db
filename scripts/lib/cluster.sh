# shellcheck shell=bash
# Throwaway PostgreSQL 15 cluster for tests, benchmarks and the demo.
# Source this file, then call `pgflow_cluster_start <data-dir>`; it exports PGHOST, PGPORT, PGUSER,
# PGDATABASE and PGFLOW_DATABASE_URL and registers a trap that stops the server on exit.
# With PGFLOW_DATABASE_URL already set, nothing is started and that server is used instead.

pgflow_pg_bindir() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Runs a command as the `postgres` OS user (initdb refuses root).
pgflow_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgflow_free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pgflow_cluster_stop() {
  if [ -n "${PGFLOW_CLUSTER_DIR:-}" ] && [ -f "$PGFLOW_CLUSTER_DIR/postmaster.pid" ]; then
    pgflow_as_postgres "$PGFLOW_PG_BIN/pg_ctl" -D "$PGFLOW_CLUSTER_DIR" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# pgflow_fresh_cluster DIR DBNAME: a new throwaway cluster in DIR/pgdata (one left there by an
# earlier run is removed first), for the scripts under benchmarks/sql/.
pgflow_fresh_cluster() {
  mkdir -p "$1"
  rm -rf "$1/pgdata"
  pgflow_cluster_start "$1/pgdata" "$2"
}

# pgflow_cluster_start DATA_DIR [DBNAME]
pgflow_cluster_start() {
  local data db="${2:-pgflow_test}"
  data=$(realpath -m "$1")  # the socket directory must not be relative
  if [ -n "${PGFLOW_DATABASE_URL:-}" ]; then
    echo "using the server at PGFLOW_DATABASE_URL (no throwaway cluster started)"
    export PGFLOW_EXTERNAL_SERVER=1
    return 0
  fi
  PGFLOW_PG_BIN=$(pgflow_pg_bindir) || { echo "error: PostgreSQL server binaries not found (postgresql-15)" >&2; return 1; }
  export PGFLOW_PG_BIN
  id postgres >/dev/null 2>&1 || { echo "error: no 'postgres' OS user to run the cluster as" >&2; return 1; }

  # The postgres user must be able to reach the data directory; a checkout under a private
  # directory (mktemp -d is 0700) is not reachable, so the data then lives under /tmp with a link.
  mkdir -p "$(dirname "$data")"
  rm -rf "$data"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$(dirname "$data")"; then
    local real
    real=$(mktemp -d /tmp/pgflow-cpp-pgdata.XXXXXX)
    chown postgres "$real"
    ln -s "$real" "$data"
    data="$real"
  else
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
  fi
  chmod 700 "$data"
  export PGFLOW_CLUSTER_DIR="$data"

  local port log
  port=$(pgflow_free_port)
  log="$data/server.log"
  pgflow_as_postgres "$PGFLOW_PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
    || { echo "error: initdb failed:" >&2; cat "$data.initdb.log" >&2; return 1; }
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
  trap 'pgflow_cluster_stop' EXIT
  pgflow_as_postgres "$PGFLOW_PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null \
    || { echo "error: PostgreSQL did not start:" >&2; cat "$log" >&2; return 1; }

  export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres PGDATABASE="$db"
  "$PGFLOW_PG_BIN/createdb" "$db" || return 1
  export PGFLOW_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/$db"
  echo "PostgreSQL $("$PGFLOW_PG_BIN/postgres" --version | awk '{print $3}') running on port $port (data: $data)"
}
