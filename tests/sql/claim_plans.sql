-- start_tasks and complete_tasks keep their plans for the life of a session (generic plans). A
-- plan made while the tables were nearly empty must still reach tasks by key once they hold many:
-- a claim costs O(messages), never a scan of the tasks in flight. Counted with this transaction's
-- own scan statistics (pg_stat_xact_user_tables).
SELECT plan(6);

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

SELECT * FROM finish();
