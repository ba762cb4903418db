#!/usr/bin/env bash
# sql.install_concurrently: `psql -f sql/install.sql` and the C++ installer (client::install_schema,
# here through `pgflow install`) started at the same moment, on a fresh database and on an
# installed one, several times: both succeed (they take the same advisory lock, so one waits for
# the other) and the result is one complete install. Without the lock they failed about one time
# in three with "tuple concurrently updated" and left the psql install half done.
#   install_concurrently.sh <path to the pgflow program>
set -euo pipefail
cli=${1:?usage: install_concurrently.sh <pgflow program>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db install_concurrently)
reference=$(pgflow_sqltest_create_db install_concurrently_ref)
work=$(mktemp -d)
trap 'pgflow_sqltest_drop_db "$db"; pgflow_sqltest_drop_db "$reference"; rm -rf "$work"' EXIT
fail() { echo "not ok - $*" >&2; exit 1; }

# What one install alone gives (pg_dump's \restrict lines carry a random key per dump).
dump_schema() { pg_dump --schema-only --no-owner -d "$1" | grep -Ev '^\\(un)?restrict '; }
pgflow_sqltest_install "$reference" "$repo"
dump_schema "$reference" >"$work/reference.sql"

rounds=6
for round in $(seq 1 $rounds); do
  if [ $((round % 2)) = 1 ]; then  # odd rounds: a fresh database
    pgflow_sqltest_drop_db "$db"
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
  PGOPTIONS="-c client_min_messages=warning" \
    psql -X -q -v ON_ERROR_STOP=1 -v queue=builtin -d "$db" -f "$repo/sql/install.sql" >"$work/psql.out" 2>&1 &
  psql_pid=$!
  "$cli" --database-url "dbname=$db" install --queue builtin >"$work/cli.out" 2>&1 &
  cli_pid=$!
  psql_status=0; wait $psql_pid || psql_status=$?
  cli_status=0; wait $cli_pid || cli_status=$?
  [ $psql_status = 0 ] || { cat "$work/psql.out" >&2; fail "round $round: psql -f sql/install.sql failed beside pgflow install"; }
  [ $cli_status = 0 ] || { cat "$work/cli.out" >&2; fail "round $round: pgflow install failed beside psql -f sql/install.sql"; }
  dump_schema "$db" >"$work/installed.sql"
  diff -u "$work/reference.sql" "$work/installed.sql" >&2 || fail "round $round: the schema differs from a single install's"
  echo "ok $round - round $round ($([ $((round % 2)) = 1 ] && echo fresh || echo installed) database): both installs succeed, one complete install"
done
echo "1..$rounds"
