#!/usr/bin/env bash
# Where a single-step run's database time goes, statement by statement: pg_stat_statements with
# track = all (statements inside functions too) on a throwaway cluster, for pgflow-cpp's sql/ and
# pgflow 0.8.1's published SQL side by side. One backend drives RUNS single-step runs, each call in
# its own transaction as a worker makes them:
#   ours:         pgflow.start_flow, pgflow_cpp.read_and_start_tasks(1), pgflow.complete_tasks
#   pgflow 0.8.1: pgflow.start_flow, pgmq.read(1) + pgflow.start_tasks,  pgflow.complete_task
# and prints, per engine, the TOP statements by execution time in milliseconds per run (a
# function's time includes the statements it runs, which are listed too), then each engine's
# total for the top-level calls. Wall-clock times of one backend: run it on a quiet machine.
#   benchmarks/sql/statement_profile.sh            RUNS=2000 TOP=40 by default
#   RUNS=5000 TOP=60 benchmarks/sql/statement_profile.sh
# With --e2e, the same cluster serves scripts/bench's single-step shape instead (4 workers per
# engine, SECONDS=10 windows, engines alternated once), and the listing is per completed task:
# every statement the workers, the run starter and the SQL functions ran, with the time the
# statements spent waiting on locks (not commits: a commit is not a statement).
#   benchmarks/sql/statement_profile.sh --e2e
#   SHAPE=single_held benchmarks/sql/statement_profile.sh --e2e   (another session holds a snapshot)
set -euo pipefail
e2e=0
for arg in "$@"; do
  case "$arg" in
    --e2e) e2e=1 ;;
    *) echo "statement_profile.sh: unknown argument '$arg' (use --e2e)" >&2; exit 2 ;;
  esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=${RUNS:-2000}
top=${TOP:-40}
out="$repo/build/statement-profile"
# shellcheck source=scripts/lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"
pgflow_fresh_cluster "$out" profile_ours >/dev/null
cat >>"$out/pgdata/postgresql.conf" <<'CONF'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 10000
CONF
pgflow_as_postgres "$PGFLOW_PG_BIN/pg_ctl" -D "$out/pgdata" -l "$out/pgdata/server.log" -w restart >/dev/null

if [ $e2e = 1 ]; then
  psql -X -q -c 'CREATE EXTENSION pg_stat_statements'
  shape=${SHAPE:-single}
  pgflow_log "scripts/bench, shape $shape, 4 workers per engine, against this cluster"
  PGFLOW_BENCH_SHAPES="$shape" PGFLOW_BENCH_WORKERS=4 PGFLOW_BENCH_EXTRA_SHAPES="" PGFLOW_BENCH_WARMUP=2 \
    PGFLOW_BENCH_SECONDS="${SECONDS_PER_WINDOW:-10}" PGFLOW_BENCH_REPS=1 PGFLOW_BENCH_E2E_ONLY=1 "$repo/scripts/bench" --quick >"$out/bench.log" 2>&1 \
    || { tail -30 "$out/bench.log" >&2; exit 1; }
  grep -E "^(ours|pgflow)[[:space:]]+$shape" "$out/bench.log" | cut -f1-8 | sed 's/^/  bench: /'
  for db in bench_ours bench_pgflow; do
    echo
    echo "== $db: milliseconds per run (single step: one task per run), by statement (nested: inside a function)"
    psql -X -P pager=off -c "
      WITH stats AS (
        SELECT s.* FROM pg_stat_statements AS s JOIN pg_database AS d ON d.oid = s.dbid WHERE d.datname = '$db'
      ), runs AS (  -- every run is started by one top-level start_flow call, warm-up included
        SELECT sum(s.calls) AS n FROM stats AS s WHERE s.toplevel AND s.query ~* 'from pgflow\.start_flow\('
      )
      SELECT round((s.total_exec_time / runs.n)::numeric, 4) AS ms_per_run,
             round(s.calls::numeric / runs.n, 2) AS calls_per_run,
             CASE WHEN s.toplevel THEN 'top' ELSE 'nested' END AS level,
             left(regexp_replace(s.query, '\s+', ' ', 'g'), 105) AS statement
      FROM stats AS s, runs
      ORDER BY s.total_exec_time DESC
      LIMIT $top"
  done
  exit 0
fi
createdb profile_pgflow

psql_db() { local db="$1"; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@" >/dev/null; }
psql_db profile_ours -v queue=builtin -f "$repo/sql/install.sql"
pgflow_install_pgflow_081 profile_pgflow "$out"
psql_db profile_ours -c 'CREATE EXTENSION pg_stat_statements'

for db in profile_ours profile_pgflow; do
  psql_db "$db" <<'SQL'
SELECT pgflow.create_flow('bench_single');
SELECT pgflow.add_step('bench_single', 'only');
INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
VALUES ('00000000-0000-0000-0000-0000000c0575', 'bench_single', 'statement_profile');
CREATE PROCEDURE profile_runs(runs integer) LANGUAGE plpgsql AS $$
DECLARE
  w constant uuid := '00000000-0000-0000-0000-0000000c0575';
  ours constant boolean := to_regproc('pgflow_cpp.read_and_start_tasks') IS NOT NULL;
  task record;
BEGIN
  FOR i IN 1 .. runs LOOP
    PERFORM pgflow.start_flow('bench_single', jsonb_build_object('value', i));
    COMMIT;
    IF ours THEN
      SELECT c.run_id, c.step_slug, c.task_index INTO task
      FROM pgflow_cpp.read_and_start_tasks('bench_single', 30, 1, w) AS c;
    ELSE
      SELECT t.run_id, t.step_slug, t.task_index INTO task
      FROM pgflow.start_tasks('bench_single', ARRAY(SELECT m.msg_id FROM pgmq.read('bench_single', 30, 1) AS m), w) AS t;
    END IF;
    COMMIT;
    IF ours THEN
      PERFORM pgflow.complete_tasks(ARRAY[task.run_id], ARRAY[task.step_slug], ARRAY[task.task_index],
                                    ARRAY[jsonb_build_object('value', i)]);
    ELSE
      PERFORM pgflow.complete_task(task.run_id, task.step_slug, task.task_index, jsonb_build_object('value', i));
    END IF;
    COMMIT;
  END LOOP;
END;
$$;
SQL
  psql_db "$db" -c 'CALL profile_runs(200)'  # warm-up: plans cached, tables past their first pages
done

psql_db profile_ours -c 'SELECT pg_stat_statements_reset()'
for db in profile_ours profile_pgflow; do
  pgflow_log "$db: $runs single-step runs"
  psql_db "$db" -c "CALL profile_runs($runs)"
done

for db in profile_ours profile_pgflow; do
  echo
  echo "== $db: milliseconds per run, by statement (nested statements are part of their caller's time)"
  psql -X -P pager=off -d profile_ours -c "
    SELECT round((s.total_exec_time / $runs)::numeric, 4) AS ms_per_run,
           round(s.calls::numeric / $runs, 1) AS calls_per_run,
           left(regexp_replace(s.query, '\s+', ' ', 'g'), 110) AS statement
    FROM pg_stat_statements AS s JOIN pg_database AS d ON d.oid = s.dbid
    WHERE d.datname = '$db' AND s.query NOT LIKE 'CALL profile_runs%'
    ORDER BY s.total_exec_time DESC
    LIMIT $top"
done
echo
echo "== the driver's calls (each in its own transaction): milliseconds per run"
psql -X -P pager=off -d profile_ours -c "
  SELECT d.datname AS engine, c.call, round((sum(s.total_exec_time) / $runs)::numeric, 3) AS ms_per_run
  FROM pg_stat_statements AS s
  JOIN pg_database AS d ON d.oid = s.dbid
  CROSS JOIN LATERAL (SELECT CASE
    WHEN s.query LIKE 'SELECT pgflow.start_flow(%' THEN '1 start_flow'
    WHEN s.query LIKE 'SELECT c.run_id, c.step_slug, c.task_index%' THEN '2 claim (read_and_start_tasks)'
    WHEN s.query LIKE 'SELECT t.run_id, t.step_slug, t.task_index%' THEN '2 claim (pgmq.read + start_tasks)'
    WHEN s.query LIKE 'SELECT pgflow.complete_task%' THEN '3 complete' END AS call) AS c
  WHERE d.datname IN ('profile_ours', 'profile_pgflow') AND c.call IS NOT NULL
  GROUP BY ROLLUP (d.datname, c.call) HAVING d.datname IS NOT NULL
  ORDER BY d.datname, c.call NULLS LAST"
