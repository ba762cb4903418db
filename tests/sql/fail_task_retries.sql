-- fail_task: retries with pgflow's back-off (floor(base * 2^attempts)), permanent failure of the
-- task, step and run with every message of the run archived, and the no-op cases.
SELECT plan(29);

-- calculate_retry_delay
SELECT is(pgflow.calculate_retry_delay(3, 1), 6, 'retry delay: base 3, first retry waits 6 s');
SELECT is(pgflow.calculate_retry_delay(3, 2), 12, 'retry delay: base 3, second retry waits 12 s');
SELECT is(pgflow.calculate_retry_delay(5, 0), 5, 'retry delay: 2^0 = 1');
SELECT is(pgflow.calculate_retry_delay(1.5, 3), 12, 'retry delay: fractional base');
SELECT is(pgflow.calculate_retry_delay(2.7, 1), 5, 'retry delay: rounded down');
SELECT is(pgflow.calculate_retry_delay(1, 20), 1048576, 'retry delay: no cap');

SELECT pgflow.create_flow('retry', max_attempts => 3, base_delay => 5);
SELECT pgflow.add_step('retry', 'flaky');
SELECT pgflow.add_step('retry', 'wide', step_type => 'map');
SELECT pgflow_tests.ensure_worker('retry');
SELECT pgflow.start_flow('retry', '[1, 2, 3]', '00000000-0000-0000-0000-0000000000a1');
SELECT pgflow.start_tasks('retry', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE step_slug = 'flaky'), pgflow_tests.worker_id());

SELECT results_eq(
  $$SELECT status, attempts_count, error_message, started_at, failed_at
    FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a1', 'flaky', 0, 'first failure')$$,
  $$VALUES ('queued'::text, 1, 'first failure'::text, NULL::timestamptz, NULL::timestamptz)$$,
  'a failure with attempts left re-queues the task, keeping the error message');
SELECT ok((SELECT pgflow_tests.visible_in('retry', message_id) BETWEEN 9 AND 10 FROM pgflow.step_tasks WHERE step_slug = 'flaky'),
          'its message is hidden for base * 2^1 = 10 s');
SELECT results_eq($$SELECT status, failed_at, error_message FROM pgflow.step_states WHERE step_slug = 'flaky'$$,
                  $$VALUES ('started'::text, NULL::timestamptz, NULL::text)$$, 'the step stays started');
SELECT results_eq($$SELECT status, failed_at FROM pgflow.runs$$, $$VALUES ('started'::text, NULL::timestamptz)$$,
                  'the run stays started');

SELECT pgflow_tests.make_visible('retry');
SELECT pgflow.start_tasks('retry', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE step_slug = 'flaky'), pgflow_tests.worker_id());
SELECT is((SELECT attempts_count FROM pgflow.step_tasks WHERE step_slug = 'flaky'), 2, 'the retry is claimed as attempt 2 (same message)');
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000000a1', 'flaky', 0, 'second failure');
SELECT ok((SELECT pgflow_tests.visible_in('retry', message_id) BETWEEN 19 AND 20 FROM pgflow.step_tasks WHERE step_slug = 'flaky'),
          'the second retry waits base * 2^2 = 20 s');

SELECT pgflow_tests.make_visible('retry');
SELECT pgflow.start_tasks('retry', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id());
SELECT results_eq(
  $$SELECT status, attempts_count, error_message, failed_at IS NOT NULL, started_at IS NOT NULL
    FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a1', 'flaky', 0, 'final failure')$$,
  $$VALUES ('failed'::text, 3, 'final failure'::text, true, true)$$,
  'the failure of the last attempt fails the task');
SELECT results_eq($$SELECT status, error_message, failed_at IS NOT NULL FROM pgflow.step_states WHERE step_slug = 'flaky'$$,
                  $$VALUES ('failed'::text, 'final failure'::text, true)$$, 'its step fails with the error message');
SELECT results_eq($$SELECT status, failed_at IS NOT NULL, completed_at FROM pgflow.runs$$,
                  $$VALUES ('failed'::text, true, NULL::timestamptz)$$, 'and the whole run fails');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('retry')), 0::bigint,
          'every message of the run is archived, the map siblings'' included');
SELECT is(pgflow_tests.archived_ids('retry'), ARRAY(SELECT message_id FROM pgflow.step_tasks ORDER BY message_id),
          'they are in the archive');
SELECT results_eq($$SELECT task_index, status FROM pgflow.step_tasks WHERE step_slug = 'wide' ORDER BY 1$$,
                  $$VALUES (0, 'cancelled'::text), (1, 'cancelled'), (2, 'cancelled')$$,
                  'sibling tasks are cancelled (pgflow 0.15.1: a failed run keeps no active task)');
SELECT results_eq($$SELECT status FROM pgflow.step_states WHERE step_slug = 'wide'$$, $$VALUES ('started'::text)$$,
                  'other steps keep their status');
SELECT is((SELECT remaining_steps FROM pgflow.runs), 2, 'remaining_steps is not reduced');

-- On a failed run: a late fail_task of a (cancelled) task changes nothing, without retry.
SELECT results_eq($$SELECT status, error_message, attempts_count FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a1', 'wide', 1, 'late')$$,
                  $$VALUES ('cancelled'::text, NULL::text, 1)$$, 'fail_task on a failed run leaves the cancelled task as it is');
SELECT is((SELECT status FROM pgflow.step_states WHERE step_slug = 'wide'), 'started', 'without touching its step');

-- No-ops.
SELECT pgflow.create_flow('noop');
SELECT pgflow.add_step('noop', 'a');
SELECT pgflow.start_flow('noop', '{}', '00000000-0000-0000-0000-0000000000a2');
SELECT results_eq($$SELECT status, attempts_count, error_message FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a2', 'a', 0, 'x')$$,
                  $$VALUES ('queued'::text, 0, NULL::text)$$, 'fail_task on a queued task changes nothing');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1') FROM pgflow_tests.read_and_start('noop') t;
SELECT results_eq($$SELECT status, error_message, output FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a2', 'a', 0, 'x')$$,
                  $$VALUES ('completed'::text, NULL::text, '1'::jsonb)$$, 'fail_task on a completed task changes nothing');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000a2'), 'completed', 'its run stays completed');

-- Step options override the flow's; max_attempts 0 and 1 both make the first failure final.
SELECT pgflow.create_flow('opts', max_attempts => 5, base_delay => 100);
SELECT pgflow.add_step('opts', 'tuned', max_attempts => 2, base_delay => 3);
SELECT pgflow.add_step('opts', 'once', max_attempts => 1);
SELECT pgflow.add_step('opts', 'never', max_attempts => 0);
SELECT pgflow.start_flow('opts', '{}', '00000000-0000-0000-0000-0000000000a3');
SELECT pgflow.start_tasks('opts', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'opts'), pgflow_tests.worker_id());
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000000a3', 'tuned', 0, 'e');
SELECT ok((SELECT pgflow_tests.visible_in('opts', message_id) BETWEEN 5 AND 6 FROM pgflow.step_tasks WHERE step_slug = 'tuned'),
          'a step''s base_delay overrides the flow''s (3 * 2 = 6 s)');
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a3', 'once', 0, 'e')), 'failed',
          'max_attempts 1: the first failure is final');
SELECT pgflow.start_flow('opts', '{}', '00000000-0000-0000-0000-0000000000a4');
SELECT pgflow.start_tasks('opts', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000a4'),
                          pgflow_tests.worker_id());
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a4', 'never', 0, 'e')), 'failed',
          'max_attempts 0: the first failure is final too');
SELECT pgflow_tests.make_visible('opts');
SELECT pgflow.start_flow('opts', '{}', '00000000-0000-0000-0000-0000000000a5');
SELECT pgflow.start_tasks('opts', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000a5'),
                          pgflow_tests.worker_id());
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000000a5', 'tuned', 0, 'e1');
SELECT pgflow_tests.make_visible('opts');
SELECT pgflow.start_tasks('opts', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000a5' AND step_slug = 'tuned'),
                          pgflow_tests.worker_id());
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000000a5', 'tuned', 0, 'e2')), 'failed',
          'a step''s max_attempts overrides the flow''s (2 attempts)');

SELECT * FROM finish();
