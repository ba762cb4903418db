-- A claim reaches the runs of the tasks it claims by key, whatever the statistics say. Analyzed
-- while one run of 301 had started (as autovacuum does while a flow is young), the claim's generic
-- plan read the runs through idx_runs_status (status = 'started') and joined its tasks to each of
-- them: once a backlog of runs had started, every claim read every started run (a claim of 2 tasks
-- among 3,000 started runs: 3,001 runs and 6,002 task probes, 8.7 ms). The completion, failure,
-- retry, cancel and start of a run, planned on the same statistics, are held to the rows of their
-- run too (7-15 rows each, before and after the fix). Counted with this
-- transaction's own statistics (pg_stat_xact_user_tables), which also hold counts of earlier
-- transactions not yet flushed: each check takes the difference.
SELECT plan(10);

ALTER TABLE pgflow.step_tasks SET (autovacuum_enabled = false);
ALTER TABLE pgflow.runs SET (autovacuum_enabled = false);
ALTER TABLE pgflow.step_states SET (autovacuum_enabled = false);

SELECT pgflow.create_flow('backlog');
SELECT pgflow.add_step('backlog', 'only');
SELECT pgflow_tests.ensure_worker('backlog');
SELECT count(*) FROM generate_series(1, 300) AS i, LATERAL pgflow.start_flow('backlog', to_jsonb(i));
SELECT pgflow_tests.run_visible_tasks('backlog', '1');
SELECT pgflow.start_flow('backlog', '0');
ANALYZE pgflow.runs, pgflow.step_states, pgflow.step_tasks, pgflow.steps, pgflow.flows;
-- The plans are made now (this session keeps them): 301 runs, one started.
SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('backlog', 30, 10, pgflow_tests.worker_id())), 1::bigint,
          'the young flow''s claim takes its one task');

SELECT count(*) FROM generate_series(1, 3000) AS i, LATERAL pgflow.start_flow('backlog', to_jsonb(i));

CREATE FUNCTION pg_temp.fetched(rel regclass) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables WHERE relid = rel
$$;
BEGIN;
CREATE TEMP TABLE before AS SELECT pg_temp.fetched('pgflow.runs') AS runs, pg_temp.fetched('pgflow.step_tasks') AS tasks;
SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('backlog', 30, 2, pgflow_tests.worker_id())), 2::bigint,
          'a claim of 2 tasks among 3,000 started runs');
SELECT cmp_ok(pg_temp.fetched('pgflow.runs') - (SELECT runs FROM before), '<', 20::bigint,
              'reads the runs of its tasks, not every started run');
SELECT cmp_ok(pg_temp.fetched('pgflow.step_tasks') - (SELECT tasks FROM before), '<', 20::bigint,
              'and looks each task up once');
COMMIT;

-- The other calls of a run's life, planned on the same statistics, each reach their rows by key.
CREATE FUNCTION pg_temp.rows_read(call text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  before bigint := pg_temp.fetched('pgflow.runs') + pg_temp.fetched('pgflow.step_tasks')
                   + pg_temp.fetched('pgflow.step_states');
BEGIN
  EXECUTE call;
  RETURN pg_temp.fetched('pgflow.runs') + pg_temp.fetched('pgflow.step_tasks')
         + pg_temp.fetched('pgflow.step_states') - before;
END;
$$;
CREATE TEMP TABLE claimed AS SELECT * FROM pgflow_cpp.read_and_start_tasks('backlog', 30, 3, pgflow_tests.worker_id());
BEGIN;
SELECT cmp_ok(pg_temp.rows_read(format(
  'SELECT count(*) FROM pgflow.complete_tasks(%L::uuid[], %L::text[], %L::int[], %L::jsonb[])',
  ARRAY[(SELECT run_id FROM claimed ORDER BY run_id LIMIT 1)], ARRAY['only'], ARRAY[0], ARRAY['2'::jsonb])),
  '<', 60::bigint, 'complete_tasks reads the rows of its run');
SELECT cmp_ok(pg_temp.rows_read(format('SELECT pgflow.fail_task(%L, ''only'', 0, ''boom'')',
                                       (SELECT run_id FROM claimed ORDER BY run_id OFFSET 1 LIMIT 1))),
              '<', 60::bigint, 'fail_task reads the rows of its run');
SELECT cmp_ok(pg_temp.rows_read(format('SELECT pgflow_cpp.fail_task_permanently(%L, ''only'', 0, ''fatal'')',
                                       (SELECT run_id FROM claimed ORDER BY run_id OFFSET 2 LIMIT 1))),
              '<', 60::bigint, 'fail_task_permanently reads the rows of its run');
SELECT cmp_ok(pg_temp.rows_read(format('SELECT pgflow_cpp.retry_run(%L)',
                                       (SELECT run_id FROM claimed ORDER BY run_id OFFSET 2 LIMIT 1))),
              '<', 60::bigint, 'retry_run reads the rows of its run');
SELECT cmp_ok(pg_temp.rows_read(format('SELECT pgflow_cpp.cancel_run(%L)',
                                       (SELECT r.run_id FROM pgflow.runs AS r WHERE r.status = 'started'
                                        ORDER BY r.started_at DESC LIMIT 1))),
              '<', 60::bigint, 'cancel_run reads the rows of its run');
SELECT cmp_ok(pg_temp.rows_read('SELECT count(*) FROM pgflow.start_flow(''backlog'', ''5'')'),
              '<', 60::bigint, 'start_flow reads the rows of its run');
COMMIT;

SELECT * FROM finish();
