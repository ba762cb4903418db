-- A task re-queued with no delay (base_delay 0) wakes idle workers at once: fail_task sends the
-- queue wake-up pgflow:queue:<flow_slug> that new tasks get, through pgflow_cpp.notify (so also
-- when notifications are deferred). A retry with a delay sends none.
SELECT plan(5);

SELECT pgflow.create_flow('instant', max_attempts => 3, base_delay => 0);
SELECT pgflow.add_step('instant', 'flaky');
SELECT pgflow.create_flow('patient', max_attempts => 3, base_delay => 5);
SELECT pgflow.add_step('patient', 'flaky');
SELECT dblink_connect('listener', pgflow_tests.dblink_connstr());
SELECT dblink_exec('listener', 'LISTEN "pgflow:queue:instant"');
SELECT dblink_exec('listener', 'LISTEN "pgflow:queue:patient"');

SELECT pgflow.start_flow('instant', '{}', '00000000-0000-0000-0000-0000000c0001');
SELECT pgflow.start_flow('patient', '{}', '00000000-0000-0000-0000-0000000c0002');
SELECT count(*) FROM pgflow_tests.read_and_start('instant');
SELECT count(*) FROM pgflow_tests.read_and_start('patient');
SELECT count(*) FROM pgflow_tests.wait_notifications('listener', 2, 1);  -- the start_flow wake-ups

SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000c0001', 'flaky', 0, 'again');
SELECT results_eq($$SELECT channel, payload FROM pgflow_tests.wait_notifications('listener', 1, 2)$$,
                  $$VALUES ('pgflow:queue:instant', '')$$,
                  'a retry with base_delay 0 sends the queue wake-up');
SELECT ok((SELECT pgflow_tests.visible_in('instant', message_id) <= 0 FROM pgflow.step_tasks WHERE flow_slug = 'instant'),
          'its message is visible at once');

SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000c0002', 'flaky', 0, 'later');
SELECT is((SELECT count(*) FROM pgflow_tests.wait_notifications('listener', 1, 0.3)), 0::bigint,
          'a retry with a delay sends none');

-- Deferred, the wake-up waits for the publication like every other notification.
SELECT count(*) FROM pgflow_tests.read_and_start('instant');
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000c0001', 'flaky', 0, 'once more');
COMMIT;
SELECT is((SELECT array_agg(channel) FROM pgflow_cpp.deferred_notifications), ARRAY['pgflow:queue:instant'],
          'a deferring transaction records the wake-up');
SELECT pgflow_cpp.publish_deferred_notifications();
SELECT results_eq($$SELECT channel FROM pgflow_tests.wait_notifications('listener', 1, 2)$$,
                  $$VALUES ('pgflow:queue:instant')$$, 'and publishing sends it');
SELECT dblink_disconnect('listener');
SELECT * FROM finish();
