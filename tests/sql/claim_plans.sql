-- start_tasks and complete_tasks keep their plans for the life of a session (generic plans). A
-- plan made while the tables were nearly empty must still reach tasks by key once they hold many:
-- a claim costs O(messages), never a scan of the tasks in flight. Counted with this transaction's
-- own scan statistics (pg_stat_xact_user_tables) and function calls (pg_stat_xact_user_functions).
SELECT plan(9);

-- No autovacuum ANALYZE may refresh the statistics during the test.
ALTER TABLE pgflow.step_tasks SET (autovacuum_enabled = false);
ALTER TABLE pgflow.runs SET (autovacuum_enabled = false);
ALTER TABLE pgflow.step_states SET (autovacuum_enabled = false);

SELECT pgflow.create_flow('wide');
SELECT pgflow.add_step('wide', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker('wide');

-- Plans are made now, with two tasks in the tables.
SELECT pgflow.start_flow('wide', '[1, 2]', '00000000-0000-0000-0000-0000000000a1');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('wide', 30, 2)), 2::bigint, 'the first claim takes both tasks');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(ARRAY['00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a1']::uuid[],
                                                      ARRAY['items', 'items'], ARRAY[0, 1], ARRAY['1', '2']::jsonb[])),
          2::bigint, 'and the first batch completes them');

-- Then the tables grow.
SELECT pgflow.start_flow('wide', (SELECT jsonb_agg(i) FROM generate_series(1, 20000) AS i), '00000000-0000-0000-0000-0000000000a2');

BEGIN;
CREATE TEMP TABLE claimed AS SELECT * FROM pgflow_tests.read_and_start('wide', 30, 5);
SELECT is((SELECT count(*) FROM claimed), 5::bigint, 'a claim of 5 among 20,000 queued tasks');
SELECT is((SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'pgflow.step_tasks'::regclass), 0::bigint,
          'reads no task but its own (no sequential scan of step_tasks)');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(ARRAY(SELECT run_id FROM claimed ORDER BY task_index),
                                                      ARRAY(SELECT step_slug FROM claimed ORDER BY task_index),
                                                      ARRAY(SELECT task_index FROM claimed ORDER BY task_index),
                                                      array_fill('0'::jsonb, ARRAY[5]))),
          5::bigint, 'completing those 5 as a batch');
SELECT is((SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'pgflow.step_tasks'::regclass), 0::bigint,
          'does not scan the tasks either');
COMMIT;

-- A claim builds each single step's input once. Its statement joins the claimed tasks to their
-- inputs; planned while the tables were nearly empty (as above), a nested loop re-ran the inputs'
-- sub-select for every claimed task: a claim of n tasks read n * n dependency outputs.
SELECT pgflow.create_flow('chain');
SELECT pgflow.add_step('chain', 'first');
SELECT pgflow.add_step('chain', 'second', ARRAY['first']);
SELECT pgflow.add_step('chain', 'third', ARRAY['second']);
SELECT pgflow_tests.ensure_worker('chain');
SELECT count(*) FROM generate_series(1, 10) AS i, LATERAL pgflow.start_flow('chain', to_jsonb(i));
SELECT pgflow_tests.run_visible_tasks('chain', '{"n": 1}');  -- every run's first step

-- (The pg_stat_xact_* views also hold counts of earlier transactions not yet flushed: each check
-- takes the difference.)
CREATE FUNCTION pg_temp.step_output_calls() RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions
                   WHERE funcid = 'pgflow_cpp.step_output(uuid, text, text)'::regprocedure), 0)
$$;
BEGIN;
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE calls_before AS SELECT pg_temp.step_output_calls() AS n;
CREATE TEMP TABLE seconds AS SELECT * FROM pgflow_tests.read_and_start('chain', 30, 10);
SELECT is((SELECT count(*) FROM seconds), 10::bigint, 'a claim of 10 dependent tasks of 10 runs');
SELECT is(pg_temp.step_output_calls() - (SELECT n FROM calls_before), 10::bigint,
          'reads each task''s dependency output once');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(ARRAY(SELECT run_id FROM seconds), ARRAY(SELECT step_slug FROM seconds),
                                                      ARRAY(SELECT task_index FROM seconds), array_fill('{"n": 2}'::jsonb, ARRAY[10]))),
          10::bigint, 'completing them as a batch');
COMMIT;

SELECT * FROM finish();
