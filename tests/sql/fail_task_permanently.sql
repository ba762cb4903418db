-- pgflow_cpp.fail_task_permanently: a started task fails at once, attempts left or not, like an
-- exhausted task (events, cancelled siblings, archived messages); anything else as fail_task; it
-- leaves no trace on later fail_task calls of the transaction, and no setting a session could set
-- makes fail_task fail permanently.
\ir fixtures/realtime_stand_in.sql
SELECT plan(8);

SELECT pgflow.create_flow('perm', max_attempts => 5, base_delay => 0);
SELECT pgflow.add_step('perm', 'a');
SELECT pgflow.add_step('perm', 'b');
SELECT pgflow.start_flow('perm', '{}', '00000000-0000-0000-0000-0000000f0001');
SELECT count(*) FROM pgflow_tests.read_and_start('perm', 30, 10);

SELECT is((SELECT count(*) FROM pgflow_cpp.fail_task_permanently('00000000-0000-0000-0000-0000000f0002', 'a', 0, 'x')), 0::bigint,
          'an unknown task: nothing');
SELECT results_eq($$SELECT status, attempts_count, error_message
                    FROM pgflow_cpp.fail_task_permanently('00000000-0000-0000-0000-0000000f0001', 'a', 0, 'order 1004 has no lines')$$,
                  $$VALUES ('failed'::text, 1, 'order 1004 has no lines'::text)$$,
                  'the task fails at its first attempt of five, error stored');
SELECT results_eq($$SELECT s.status, s.error_message, r.status FROM pgflow.step_states s JOIN pgflow.runs r USING (run_id)
                    WHERE s.step_slug = 'a'$$,
                  $$VALUES ('failed'::text, 'order 1004 has no lines'::text, 'failed'::text)$$, 'its step and run fail');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE step_slug = 'b'), 'cancelled', 'the other started task is cancelled');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE event LIKE '%failed'),
          ARRAY['step:a:failed', 'run:failed'], 'step:failed then run:failed, as for an exhausted task');
SELECT is(cardinality(pgflow_tests.archived_ids('perm')), 2, 'both messages are archived');

-- In one transaction, a later ordinary fail_task still retries.
SELECT pgflow.start_flow('perm', '{}', '00000000-0000-0000-0000-0000000f0003');
SELECT count(*) FROM pgflow_tests.read_and_start('perm', 30, 10);
BEGIN;
SELECT pgflow_cpp.fail_task_permanently('00000000-0000-0000-0000-0000000f0003', 'zzz', 0, 'x');
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000f0003', 'a', 0, 'transient')), 'queued',
          'fail_task afterwards in the same transaction re-queues as usual');
COMMIT;
SELECT pgflow_tests.make_visible('perm');
SELECT count(*) FROM pgflow_tests.read_and_start('perm', 30, 10);
SET pgflow_cpp.fail_permanently = on;
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000f0003', 'a', 0, 'transient')), 'queued',
          'a session''s pgflow_cpp.fail_permanently setting (the former mechanism) does not make fail_task permanent');
RESET pgflow_cpp.fail_permanently;

SELECT * FROM finish();
