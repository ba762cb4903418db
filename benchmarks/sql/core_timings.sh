#!/usr/bin/env bash
# Times the SQL core's acceptance figures with psql's \timing on a throwaway PostgreSQL cluster
# (or, with PGFLOW_DATABASE_URL set, in a throwaway database on that server):
#   start_flow of a 10,000-element root map, pgmq.read and start_tasks of its 10,000 map tasks,
#   10,000 complete_task calls (one transaction each), a chain of 49 empty maps cascading in
#   start_flow, and the 50-map chain hitting the cascade limit.
#   benchmarks/sql/core_timings.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"
pgflow_cluster_start "$repo/build/sql-timings/pgdata" pgflow_timings >/dev/null
[ -n "${PGFLOW_EXTERNAL_SERVER:-}" ] && source "$repo/tests/sql/lib.sh" && pgflow_sqltest_connect_env

db="pgflow_core_timings_$$"
work=$(mktemp -d)
cleanup() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
  pgflow_cluster_stop
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
PGOPTIONS="-c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 -v queue=builtin -d "$db" -f "$repo/sql/install.sql" >/dev/null

# Each "\echo @ label" names the next statement's time; the measured statements run three times
# (three runs of the same flows) and the report gives the best and the median of the three.
cat >"$work/script.sql" <<'SQL'
SELECT pgflow.create_flow('bulk');
SELECT pgflow.add_step('bulk', 'each', step_type => 'map');
SELECT pgflow.add_step('bulk', 'total', ARRAY['each']);
INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES ('11111111-1111-1111-1111-111111111111', 'bulk', 'timings');
CREATE TABLE bench_input AS
  SELECT jsonb_agg(jsonb_build_object('id', i, 'name', 'item ' || i)) AS input FROM generate_series(1, 10000) AS i;
CREATE FUNCTION chain_flow(slug text, len int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.create_flow(slug);
  PERFORM pgflow.add_step(slug, 'm1', step_type => 'map');
  FOR i IN 2..len LOOP
    PERFORM pgflow.add_step(slug, 'm' || i, ARRAY['m' || (i - 1)], step_type => 'map');
  END LOOP;
END $$;
SELECT chain_flow('chain49', 49);
SELECT chain_flow('chain50', 50);
\timing on
SQL
for round in 1 2 3; do
  cat >>"$work/script.sql" <<SQL
\\echo @ start_flow, 10,000-element root map (creates 10,000 tasks and messages)
SELECT run_id FROM pgflow.start_flow('bulk', (SELECT input FROM bench_input)) \\gset
\\echo @ pgmq.read of the 10,000 messages
SELECT count(*) FROM pgmq.read('bulk', 300, 10000);
\\echo @ start_tasks of 10,000 map tasks in one call (claim, set vt, build inputs)
SELECT count(*) FROM pgflow.start_tasks('bulk', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = :'run_id' AND step_slug = 'each'), '11111111-1111-1111-1111-111111111111');
\\echo @ start_flow of a chain of 49 empty maps (cascade completes all 49)
SELECT status FROM pgflow.start_flow('chain49', '[]');
SQL
done
cat >>"$work/script.sql" <<'SQL'
\timing off
\echo @@ chain50
\set ON_ERROR_STOP off
SELECT pgflow.start_flow('chain50', '[]');
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$work/script.sql" >"$work/out.txt" 2>&1

# 10,000 completions, each its own transaction as a worker sends them: the first 5,000 with
# durable commits (each waits for its WAL flush), the other 5,000 with synchronous_commit=off,
# which leaves the cost of the SQL itself.
completions() {
  psql -X -At -d "$db" -c "SELECT format('SELECT 1 FROM pgflow.complete_task(%L, %L, %s, %L);', run_id, step_slug, task_index, to_jsonb(task_index))
                           FROM pgflow.step_tasks WHERE run_id = (SELECT min(run_id::text)::uuid FROM pgflow.runs WHERE flow_slug = 'bulk')
                             AND step_slug = 'each' AND task_index $1 ORDER BY task_index" >"$work/completions.sql"
  local start end
  start=$(date +%s.%N)
  PGOPTIONS="${2:-}" psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$work/completions.sql" >/dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v label="$3" 'BEGIN { printf "  %-78s %10.1f ms (%.3f ms each)\n", label, (e - s) * 1000, (e - s) / 5 }'
}
echo "pgflow-cpp SQL core timings ($(psql -X -At -d "$db" -c 'SHOW server_version'), $(nproc) cores)"
echo "  (best / median of 3 runs)"
awk '/^@@ / { exit }
     /^@ / { label = substr($0, 3); if (!(label in n)) order[++labels] = label; next }
     /^Time: / && label != "" { t[label, ++n[label]] = $2; label = "" }
     END {
       for (i = 1; i <= labels; i++) {
         l = order[i]; k = n[l]
         for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) if (t[l, b] < t[l, a]) { x = t[l, a]; t[l, a] = t[l, b]; t[l, b] = x }
         printf "  %-78s %8.1f / %8.1f ms\n", l, t[l, 1], t[l, int((k + 1) / 2)]
       }
     }' "$work/out.txt"
completions "< 5000" "" "5,000 complete_task calls, one transaction each, durable commits"
completions ">= 5000" "-c synchronous_commit=off" "5,000 complete_task calls, one transaction each, synchronous_commit=off"
state=$(psql -X -At -d "$db" -c "SELECT string_agg(step_slug || ' ' || status, ', ' ORDER BY step_slug) FROM pgflow.step_states
                                 WHERE run_id = (SELECT min(run_id::text)::uuid FROM pgflow.runs WHERE flow_slug = 'bulk')")
echo "  after the completions of that run: $state"
echo "  chain of 50 empty maps: $(grep -o 'ERROR: .*' "$work/out.txt" | head -1)"
