-- Sleep steps (issue 15): a worker claims the task, pgflow_cpp.sleep_task parks it (message
-- archived, no worker held, step:waiting) and wake_due_waits completes it at until with
-- to_jsonb(until); an until in the past completes at once; refusals.
\ir fixtures/realtime_stand_in.sql
SELECT plan(18);

SELECT pgflow.create_flow('nap');
SELECT pgflow.add_step('nap', 'shipped');
SELECT pgflow.add_step('nap', 'wait_a_day', ARRAY['shipped']);
SELECT pgflow.add_step('nap', 'remind', ARRAY['wait_a_day']);
SELECT pgflow_cpp.set_step_kind('nap', 'wait_a_day', 'sleep');
SELECT pgflow_tests.ensure_worker('nap');

SELECT pgflow.start_flow('nap', '{}', '00000000-0000-0000-0000-00000000a001');
SELECT pgflow_tests.run_visible_tasks('nap');
SELECT throws_ok($$SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a001', 'wait_a_day', 0, now() + interval '1 day')$$,
                 '55000', NULL, 'a task not claimed cannot sleep');
SELECT ok((SELECT message_id IS NOT NULL FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000a001' AND step_slug = 'wait_a_day'),
          'a sleep task has a message: a worker computes its time');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('nap', 30, 10)), 1::bigint, 'a worker claims it');
SELECT throws_ok($$SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a001', 'remind', 0, now())$$,
                 '22023', 'Step "remind" of flow "nap" is not a sleep step (it is a handler step)', 'a handler step cannot sleep');
SELECT throws_ok($$SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a001', 'wait_a_day', 0, NULL)$$,
                 '22023', NULL, 'until must be given');
SELECT lives_ok($$SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a001', 'wait_a_day', 0, '2030-01-02 03:04:05+00')$$,
                'sleep_task parks it');
SELECT results_eq($$SELECT t.status, t.attempts_count, w.kind, w.wake_at FROM pgflow.step_tasks AS t
                    JOIN pgflow_cpp.waits AS w USING (run_id, step_slug, task_index)
                    WHERE t.run_id = '00000000-0000-0000-0000-00000000a001' AND t.step_slug = 'wait_a_day'$$,
                  $$VALUES ('queued'::text, 1, 'sleep'::text, '2030-01-02 03:04:05+00'::timestamptz)$$, 'queued, waiting until then');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('nap')), 0::bigint, 'its message is archived');
SELECT is((SELECT count(*) FROM realtime.messages WHERE event = 'step:wait_a_day:waiting' AND payload->>'kind' = 'sleep'), 1::bigint,
          'step:waiting was sent');
SELECT is(pgflow_cpp.wake_due_waits(), 0, 'not due yet');
SET TIME ZONE 'UTC';
UPDATE pgflow_cpp.waits SET wake_at = '2020-01-02 03:04:05+00' WHERE run_id = '00000000-0000-0000-0000-00000000a001';
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'due: handled');
SELECT results_eq($$SELECT status, output FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000a001' AND step_slug = 'wait_a_day'$$,
                  $$VALUES ('completed'::text, '"2020-01-02T03:04:05+00:00"'::jsonb)$$, 'completed with the time it slept until');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('nap', 30, 10) WHERE step_slug = 'remind'), 1::bigint, 'its dependent starts');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits), 0::bigint, 'no wait is left');

-- An until in the past completes at once.
SELECT pgflow.start_flow('nap', '{}', '00000000-0000-0000-0000-00000000a002');
SELECT pgflow_tests.run_visible_tasks('nap');
SELECT count(*) FROM pgflow_tests.read_and_start('nap', 30, 10);
SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a002', 'wait_a_day', 0, '2001-01-01 00:00:00+00');
SELECT results_eq($$SELECT status, output FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000a002' AND step_slug = 'wait_a_day'$$,
                  $$VALUES ('completed'::text, '"2001-01-01T00:00:00+00:00"'::jsonb)$$, 'a past until completes at once');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits), 0::bigint, 'without a wait');
-- A cancelled run's task cannot sleep; a sleeping task's run cancelled takes its wait with it.
SELECT pgflow.start_flow('nap', '{}', '00000000-0000-0000-0000-00000000a003');
SELECT pgflow_tests.run_visible_tasks('nap');
SELECT count(*) FROM pgflow_tests.read_and_start('nap', 30, 10);
SELECT pgflow.start_flow('nap', '{}', '00000000-0000-0000-0000-00000000a004');
SELECT pgflow_tests.run_visible_tasks('nap');
SELECT count(*) FROM pgflow_tests.read_and_start('nap', 30, 10);
SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a004', 'wait_a_day', 0, now() + interval '1 hour');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000a003');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000a004');
SELECT throws_ok($$SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000a003', 'wait_a_day', 0, now() + interval '1 hour')$$,
                 '55000', 'Task 0 of sleep step "wait_a_day" of run 00000000-0000-0000-0000-00000000a003 is cancelled, not started: only a claimed task can sleep',
                 'a cancelled task cannot sleep');
SELECT results_eq($$SELECT t.status, (SELECT count(*) FROM pgflow_cpp.waits) FROM pgflow.step_tasks AS t
                    WHERE t.run_id = '00000000-0000-0000-0000-00000000a004' AND t.step_slug = 'wait_a_day'$$,
                  $$VALUES ('cancelled'::text, 0::bigint)$$, 'a sleeping task is cancelled with its run, and its wait is gone');
SELECT * FROM finish();
