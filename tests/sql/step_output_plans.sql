-- pgflow_cpp.step_output reads a completed step's task by key whatever the statistics say. Analyzed
-- while no task had completed, the partial indexes on status look empty to the planner, which then
-- scanned idx_step_tasks_finished_at (every completed or failed task of every run) for each call:
-- a dependent's input cost O(completed tasks) until the next ANALYZE. Counted with this
-- transaction's own statistics (pg_stat_xact_user_tables), which also hold counts of earlier
-- transactions not yet flushed: the check takes the difference.
SELECT plan(4);

ALTER TABLE pgflow.step_tasks SET (autovacuum_enabled = false);

SELECT pgflow.create_flow('chain');
SELECT pgflow.add_step('chain', 'first');
SELECT pgflow.add_step('chain', 'second', ARRAY['first']);
SELECT pgflow_tests.ensure_worker('chain');
SELECT is((SELECT count(*) FROM generate_series(1, 500) AS i, LATERAL pgflow.start_flow('chain', to_jsonb(i))),
          500::bigint, '500 runs started');
ANALYZE pgflow.step_tasks;  -- 500 queued tasks, none completed
SELECT is(pgflow_tests.run_visible_tasks('chain', '{"n": 1}'), 500, 'then their first steps complete');

CREATE FUNCTION pg_temp.task_rows_fetched() RETURNS bigint LANGUAGE sql AS $$
  SELECT idx_tup_fetch FROM pg_stat_xact_user_tables WHERE relid = 'pgflow.step_tasks'::regclass
$$;
BEGIN;
CREATE TEMP TABLE fetched_before AS SELECT pg_temp.task_rows_fetched() AS n;
SELECT is((SELECT count(pgflow_cpp.step_output(r.run_id, 'first', 'single')) FROM (SELECT run_id FROM pgflow.runs LIMIT 10) AS r),
          10::bigint, 'the outputs of 10 of them, with statistics from before');
SELECT is(pg_temp.task_rows_fetched() - (SELECT n FROM fetched_before), 10::bigint, 'read one task row each');
COMMIT;

SELECT * FROM finish();
