-- A session keeps the plans of its functions' statements, and of PostgreSQL's own foreign-key
-- checks run inside them, from their first calls. Made while the tables were small (statistics of
-- a young install), such plans scan a whole table where a key lookup is needed; autovacuum's next
-- ANALYZE replaces them, but not in the middle of a transaction: one start_many of 10,000 runs on
-- tables last analyzed at 60 runs took 79.5 s instead of 6.2 s (every foreign-key check scanned
-- pgflow.runs). The entry points set enable_seqscan = off, so every plan made inside them reaches
-- rows by key. Counted with this transaction's own scan statistics (pg_stat_xact_user_tables,
-- which also hold unflushed counts of earlier transactions: the checks take differences).
SELECT plan(9);

-- No autovacuum ANALYZE may refresh the statistics during the test.
ALTER TABLE pgflow.runs SET (autovacuum_enabled = false);
ALTER TABLE pgflow.step_states SET (autovacuum_enabled = false);
ALTER TABLE pgflow.step_tasks SET (autovacuum_enabled = false);
ALTER TABLE pgflow_cpp.run_control SET (autovacuum_enabled = false);

SELECT pgflow.create_flow('pair', max_attempts => 1);
SELECT pgflow.add_step('pair', 'first');
SELECT pgflow.add_step('pair', 'second', ARRAY['first']);
SELECT pgflow_tests.ensure_worker('pair');

CREATE FUNCTION pg_temp.seq_scans() RETURNS bigint LANGUAGE sql AS $$
  SELECT sum(seq_scan)::bigint FROM pg_stat_xact_user_tables
  WHERE relid IN ('pgflow.runs'::regclass, 'pgflow.step_states'::regclass, 'pgflow.step_tasks'::regclass,
                  'pgflow_cpp.run_control'::regclass)
$$;

-- A young install: a few runs, analyzed; then every path below runs once, making its plans.
SELECT count(*) FROM generate_series(1, 6) AS i, LATERAL pgflow.start_flow('pair', to_jsonb(i));
ANALYZE pgflow.runs, pgflow.step_states, pgflow.step_tasks, pgflow_cpp.run_control;
CREATE TEMP TABLE warm AS SELECT * FROM pgflow_tests.read_and_start('pair', 30, 6);
SELECT pgflow.complete_task(run_id, step_slug, task_index, '1') FROM (SELECT * FROM warm ORDER BY run_id LIMIT 1) AS w;
SELECT pgflow.fail_task(run_id, step_slug, task_index, 'boom') FROM (SELECT * FROM warm ORDER BY run_id OFFSET 1 LIMIT 1) AS w;
SELECT pgflow_cpp.cancel_run(run_id) FROM (SELECT * FROM warm ORDER BY run_id OFFSET 2 LIMIT 1) AS w;
SELECT pgflow_cpp.retry_run(run_id) FROM (SELECT * FROM warm ORDER BY run_id OFFSET 1 LIMIT 1) AS w;
SELECT pgflow_cpp.resume_run(run_id) FROM (SELECT * FROM warm ORDER BY run_id OFFSET 2 LIMIT 1) AS w;
SELECT pgflow_cpp.start_flow_idempotent('pair', '0', 'key-0');
SELECT count(*) FROM pgflow_cpp.start_many('pair', ARRAY['1', '2']::jsonb[]);

-- Then the tables grow, in one transaction: 2,000 runs started by one call.
BEGIN;
CREATE TEMP TABLE before_many AS SELECT pg_temp.seq_scans() AS n;
SELECT is((SELECT count(*) FROM pgflow_cpp.start_many('pair', ARRAY(SELECT to_jsonb(i) FROM generate_series(1, 2000) AS i))),
          2000::bigint, 'start_many starts 2,000 runs in one call');
SELECT is(pg_temp.seq_scans() - (SELECT n FROM before_many), 0::bigint,
          'without a sequential scan of runs, step_states, step_tasks or run_control');
COMMIT;

-- The rarer paths, on tables that grew since their plans were made, one transaction each.
CREATE TEMP TABLE targets AS
SELECT run_id, row_number() OVER (ORDER BY run_id) AS n FROM pgflow.runs
WHERE status = 'started' AND run_id NOT IN (SELECT run_id FROM warm) LIMIT 3;
CREATE TEMP TABLE claimed AS
SELECT * FROM pgflow.start_tasks('pair',
  ARRAY(SELECT t.message_id FROM pgflow.step_tasks AS t JOIN targets USING (run_id) WHERE t.step_slug = 'first'),
  pgflow_tests.worker_id());

CREATE FUNCTION pg_temp.scans_of(statement text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  before bigint := pg_temp.seq_scans();
BEGIN
  EXECUTE statement;
  RETURN pg_temp.seq_scans() - before;
END;
$$;
SELECT is(pg_temp.scans_of(format($$SELECT pgflow.complete_task(%L, 'first', 0, '1')$$, (SELECT run_id FROM targets WHERE n = 1))),
          0::bigint, 'complete_task reads by key');
SELECT is(pg_temp.scans_of(format($$SELECT pgflow.fail_task(%L, 'first', 0, 'boom')$$, (SELECT run_id FROM targets WHERE n = 2))),
          0::bigint, 'fail_task (the run fails) reads by key');
SELECT is(pg_temp.scans_of(format($$SELECT pgflow_cpp.cancel_run(%L)$$, (SELECT run_id FROM targets WHERE n = 3))),
          0::bigint, 'cancel_run reads by key');
SELECT is(pg_temp.scans_of(format($$SELECT pgflow_cpp.retry_run(%L)$$, (SELECT run_id FROM targets WHERE n = 2))),
          0::bigint, 'retry_run reads by key');
SELECT is(pg_temp.scans_of(format($$SELECT pgflow_cpp.resume_run(%L)$$, (SELECT run_id FROM targets WHERE n = 3))),
          0::bigint, 'resume_run reads by key');
SELECT is(pg_temp.scans_of($$SELECT pgflow_cpp.start_flow_idempotent('pair', '1', 'key-1')$$),
          0::bigint, 'start_flow_idempotent reads by key');

-- prune_data_older_than reads most of the tables by age: it keeps sequential scans, also when
-- run_due_schedules (enable_seqscan = off) calls it for a prune schedule.
SELECT is((SELECT 'enable_seqscan=on' = ANY (p.proconfig) FROM pg_proc AS p
           WHERE p.oid = 'pgflow.prune_data_older_than(interval)'::regprocedure),
          true, 'prune_data_older_than sets enable_seqscan = on for itself');

SELECT * FROM finish();
