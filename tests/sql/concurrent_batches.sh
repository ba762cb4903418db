#!/usr/bin/env bash
# sql.concurrent_batches: four pgbench clients act as workers of nine flows at once (claims of up
# to 10 tasks with a 2 s visibility, so slow rounds' tasks are claimed again; completions in one
# pgflow.complete_tasks call in random order with random outputs, some naming a task another
# worker holds or a queued one; fail_task now and then; new runs started along the way), then one
# session works every queue until every run has ended. Whatever the interleaving, nothing may be
# left inconsistent: no run left started, counters that match the tasks, no finished task with
# its message still queued or its slot held (stress.violations in fixtures/concurrent_batches.sql).
# Deadlocks between clients are retried, as pgflow::worker retries its batch; any other error fails.
#   tests/sql/concurrent_batches.sh        (ROUNDS per client, default 1000)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db concurrent_batches)
work=$(mktemp -d)
trap 'pgflow_sqltest_drop_db "$db"; rm -rf "$work"' EXIT

fail() { echo "not ok - $*" >&2; exit 1; }
pgbench_bin=$(command -v pgbench || true)
[ -n "$pgbench_bin" ] || pgbench_bin="${PGFLOW_PG_BIN:-/usr/lib/postgresql/15/bin}/pgbench"
[ -x "$pgbench_bin" ] || fail "pgbench not found (Debian: postgresql-client or postgresql)"

pgflow_sqltest_install "$db" "$repo"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$here/fixtures/concurrent_batches.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'SELECT stress.start(60)' >/dev/null

echo 'CALL stress.work();' >"$work/work.sql"
# --max-tries: a client's round that meets a deadlock (40P01) is run again, as the worker sends
# its batch again; any other error ends the client, and pgbench's exit status says so.
if ! PGOPTIONS="-c client_min_messages=warning" "$pgbench_bin" -n -c 4 -j 2 -t "${ROUNDS:-1000}" --max-tries=50 \
       --failures-detailed -f "$work/work.sql" "$db" >"$work/pgbench.log" 2>&1; then
  cat "$work/pgbench.log" >&2
  fail "a client failed (see pgbench's output above)"
fi
grep -E '^number of (transactions actually processed|failed transactions|transactions retried)' "$work/pgbench.log"
grep -q '^number of failed transactions: 0 ' "$work/pgbench.log" || { cat "$work/pgbench.log" >&2; fail "rounds failed after 50 tries"; }

psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CALL stress.drain(120)' >/dev/null
psql -X -At -d "$db" -c "SELECT 'runs: ' || string_agg(status || ' ' || n, ', ' ORDER BY status)
                          FROM (SELECT status, count(*) AS n FROM pgflow.runs GROUP BY status) AS s"
violations=$(psql -X -At -F ': ' -d "$db" -c 'SELECT rule, n FROM stress.violations()')
[ -z "$violations" ] || fail "after every run ended: $violations"
echo "ok - every run ended consistently"
