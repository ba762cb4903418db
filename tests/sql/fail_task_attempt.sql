-- pgflow_cpp.fail_task_attempt fails a task only while it is still the given worker's given
-- attempt: the worker that abandons a hung handler must never fail a task that was claimed again
-- elsewhere. Anything else changes nothing and returns 0.
SELECT plan(10);

SELECT pgflow.create_flow('abandon', max_attempts => 3, base_delay => 0);
SELECT pgflow.add_step('abandon', 'hangs');
SELECT pgflow.start_flow('abandon', '{}', '00000000-0000-0000-0000-0000000d0001');
SELECT count(*) FROM pgflow_tests.read_and_start('abandon');
CREATE TEMP TABLE other_worker AS SELECT pgflow_tests.ensure_worker('abandon', '22222222-2222-2222-2222-222222222222') AS id;

SELECT is(pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-0000000d0001', 'hangs', 0, 1,
                                       (SELECT id FROM other_worker), 'gave up'), 0,
          'another worker''s attempt is not failed');
SELECT is(pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-0000000d0001', 'hangs', 0, 2,
                                       pgflow_tests.worker_id(), 'gave up'), 0,
          'another attempt of the same worker is not failed');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000d0001'), 'started',
          'so the task is still started');

SELECT is(pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-0000000d0001', 'hangs', 0, 1,
                                       pgflow_tests.worker_id(), 'gave up'), 1,
          'the worker''s own attempt is failed');
SELECT results_eq($$SELECT status, attempts_count, error_message FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-0000000d0001'$$,
                  $$VALUES ('queued'::text, 1, 'gave up'::text)$$,
                  'like fail_task: queued again for its next attempt, with the error');
SELECT is(pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-0000000d0001', 'hangs', 0, 1,
                                       pgflow_tests.worker_id(), 'again'), 0,
          'a queued task is not failed');

-- Race: the worker's attempt 2 runs; a second session claims the task again (attempt 3, another
-- worker) while the first worker's fail_task_attempt for attempt 2 arrives. The call waits for the claim's row lock and
-- then finds the task no longer its own.
SELECT is((SELECT attempt FROM pgflow_cpp.read_and_start_tasks('abandon', 5, 1, pgflow_tests.worker_id())), 2,
          'the worker claims attempt 2');
SELECT dblink_connect('claimer', pgflow_tests.dblink_connstr());
SELECT dblink_connect('failer', pgflow_tests.dblink_connstr());
SELECT dblink_exec('claimer', 'BEGIN');
SELECT dblink_exec('claimer', $$UPDATE pgflow.step_tasks SET status = 'started', started_at = clock_timestamp(),
                                  attempts_count = 3, last_worker_id = '22222222-2222-2222-2222-222222222222'
                                WHERE run_id = '00000000-0000-0000-0000-0000000d0001'$$);
SELECT dblink_send_query('failer', $$SELECT pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-0000000d0001', 'hangs', 0, 2,
                                      '11111111-1111-1111-1111-111111111111', 'late')$$);
SELECT pg_sleep(0.2);
SELECT is(dblink_is_busy('failer'), 1, 'fail_task_attempt waits for a concurrent claim of the task');
SELECT dblink_exec('claimer', 'COMMIT');
SELECT is((SELECT f FROM dblink_get_result('failer') AS r(f integer)), 0,
          'and then leaves the task that is now another worker''s attempt');
SELECT results_eq($$SELECT status, attempts_count, last_worker_id FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-0000000d0001'$$,
                  $$VALUES ('started'::text, 3, '22222222-2222-2222-2222-222222222222'::uuid)$$,
                  'the new attempt runs on');
SELECT dblink_disconnect('claimer');
SELECT dblink_disconnect('failer');
SELECT * FROM finish();
