#!/usr/bin/env bash
# sql.install_twice: installing sql/install.sql a second time (after some runs exist) changes
# nothing: pg_dump --schema-only is identical before and after, the data survives, and the
# installed version is queryable. Also checks the auto queue choice keeps the built-in queue.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db install_twice)
work=$(mktemp -d)
trap 'pgflow_sqltest_drop_db "$db"; rm -rf "$work"' EXIT

fail() { echo "not ok - $*" >&2; exit 1; }

pgflow_sqltest_install "$db" "$repo"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
SELECT pgflow.create_flow('twice');
SELECT pgflow.add_step('twice', 'a');
SELECT pgflow.add_step('twice', 'b', ARRAY['a']);
SELECT pgflow.start_flow('twice', '{"n": 1}');
SQL
# pg_dump's \restrict lines carry a random key per dump; everything else must match.
dump_schema() { pg_dump --schema-only --no-owner -d "$db" | grep -Ev '^\\(un)?restrict '; }
dump_schema >"$work/before.sql"
psql -X -At -d "$db" -c "SELECT count(*) FROM pgflow.runs" >"$work/runs_before"

# Second install, once forced built-in and once with the automatic choice.
pgflow_sqltest_install "$db" "$repo"
PGOPTIONS="-c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$repo/sql/install.sql" >/dev/null
dump_schema >"$work/after.sql"

if ! diff -u "$work/before.sql" "$work/after.sql" >"$work/diff"; then
  cat "$work/diff" >&2
  fail "a second install changed the schema"
fi
echo "ok 1 - pg_dump --schema-only is identical after installing twice"

psql -X -At -d "$db" -c "SELECT count(*) FROM pgflow.runs" | cmp -s - "$work/runs_before" \
  || fail "runs were lost by the second install"
echo "ok 2 - existing runs survive a second install"

version=$(psql -X -At -d "$db" -c "SELECT pgflow_cpp.installed_version()")
expected=$(cat "$repo/VERSION")
[ "$version" = "$expected" ] || fail "installed_version() is '$version', expected VERSION's $expected"
echo "ok 3 - pgflow_cpp.installed_version() is VERSION's $expected"

rows=$(psql -X -At -d "$db" -c "SELECT count(*) || ' ' || min(queue) FROM pgflow_cpp.schema_versions")
[ "$rows" = "1 builtin" ] || fail "schema_versions has '$rows', expected one builtin row"
echo "ok 4 - the version is recorded once, with the built-in queue"

tables=$(psql -X -At -d "$db" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'pgflow'")
[ "$tables" = "7" ] || fail "schema pgflow has $tables tables, expected 7"
echo "ok 5 - schema pgflow still has exactly 7 tables"

# Installing again (say, a deployment while workers run) takes no table lock that conflicts with a
# running flow's row changes: CREATE INDEX IF NOT EXISTS on an existing index took SHARE locks on
# runs, step_states, step_tasks, ... until commit, and deadlocked with completions.
locks=$(cd "$repo/sql" && PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
BEGIN;
\o /dev/null
\ir install.sql
\o
SELECT coalesce(string_agg(c.oid::regclass::text || ' ' || l.mode, ', ' ORDER BY c.oid::regclass::text), 'none')
FROM pg_locks AS l JOIN pg_class AS c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
  AND c.relnamespace IN ('pgflow'::regnamespace, 'pgmq'::regnamespace)
  AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock');
ROLLBACK;
SQL
)
[ "$locks" = "none" ] || fail "a second install locks tables running flows write: $locks"
echo "ok 6 - a second install takes no lock that blocks running flows"
echo "1..6"
