-- Tasks that a skip or a run's failure passed over (held by another session at the time, SKIP
-- LOCKED) never stay active: a late completion ends them as their siblings ended ('skipped', or
-- 'cancelled' on a failed run) and archives their message, and a claim that reads the message of
-- such a task (its worker died) does the same instead of leaving it to come back forever.
\ir fixtures/realtime_stand_in.sql
SELECT plan(10);

SELECT pgflow.create_flow('stale', base_delay => 0);
SELECT pgflow.add_step('stale', 'm', step_type => 'map', max_attempts => 1, when_exhausted => 'skip');
SELECT pgflow.add_step('stale', 'after_m', ARRAY['m']);
SELECT pgflow.start_flow('stale', '[1, 2, 3]', '00000000-0000-0000-0000-0000000f0001');
CREATE TEMP TABLE claimed AS SELECT * FROM pgflow_tests.read_and_start('stale', 30, 10);
SELECT is((SELECT count(*) FROM claimed), 3::bigint, 'three map tasks claimed');

-- Task 0 fails for good: m is skipped; tasks 1 and 2 are put back to 'started' as if the skip had
-- passed them over while a completion and a claim held them.
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000f0001', 'm', 0, 'boom');
SELECT is((SELECT status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000f0001' AND step_slug = 'm'),
          'skipped', 'm is skipped (when_exhausted skip)');
UPDATE pgflow.step_tasks SET status = 'started'
WHERE run_id = '00000000-0000-0000-0000-0000000f0001' AND step_slug = 'm' AND task_index IN (1, 2);
-- Their messages are back in the queue, as if never archived.
DO $$ BEGIN
  EXECUTE format('INSERT INTO pgmq.%I (msg_id, read_ct, enqueued_at, vt, message) OVERRIDING SYSTEM VALUE SELECT msg_id, read_ct, enqueued_at, now(), message FROM pgmq.%I WHERE msg_id IN (SELECT message_id FROM pgflow.step_tasks WHERE step_slug = ''m'' AND task_index IN (1, 2))',
                 pgmq.format_table_name('stale', 'q'), pgmq.format_table_name('stale', 'a'));
  EXECUTE format('DELETE FROM pgmq.%I WHERE msg_id IN (SELECT message_id FROM pgflow.step_tasks WHERE step_slug = ''m'' AND task_index IN (1, 2))',
                 pgmq.format_table_name('stale', 'a'));
END $$;

SELECT is((SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000f0001', 'm', 1, '"late"')), 'skipped',
          'a late completion under the skipped step ends its task skipped');
SELECT ok(NOT EXISTS (SELECT 1 FROM pgflow_tests.queued_messages('stale') AS q
                      JOIN pgflow.step_tasks AS t ON t.message_id = q.msg_id WHERE t.task_index = 1),
          'and archives its message');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000f0001'), 1,
          'and counts nothing (only after_m, released when m was skipped, is left)');
UPDATE pgflow.step_tasks SET started_at = started_at - interval '1 hour', queued_at = queued_at - interval '1 hour'
WHERE run_id = '00000000-0000-0000-0000-0000000f0001' AND step_slug = 'm' AND task_index = 2;
SELECT results_eq($$SELECT step_slug FROM pgflow_cpp.read_and_start_tasks('stale', 30, 10, pgflow_tests.worker_id())$$,
                  ARRAY['after_m'], 'a claim that reads the message of the task left started claims only after_m''s task');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000f0001' AND step_slug = 'm' AND task_index = 2),
          'skipped', 'but ends that task skipped');
SELECT ok(NOT EXISTS (SELECT 1 FROM pgflow_tests.queued_messages('stale') AS q
                      JOIN pgflow.step_tasks AS t ON t.message_id = q.msg_id WHERE t.step_slug = 'm'),
          'and archives its message');

-- A failed run: a task left started is cancelled by its late completion.
SELECT pgflow.create_flow('stale_fail', max_attempts => 1);
SELECT pgflow.add_step('stale_fail', 'a');
SELECT pgflow.add_step('stale_fail', 'b');
SELECT pgflow.start_flow('stale_fail', '{}', '00000000-0000-0000-0000-0000000f0002');
SELECT count(*) FROM pgflow_tests.read_and_start('stale_fail', 30, 10);
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000f0002', 'a', 0, 'boom');
UPDATE pgflow.step_tasks SET status = 'started' WHERE run_id = '00000000-0000-0000-0000-0000000f0002' AND step_slug = 'b';
SELECT is((SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000f0002', 'b', 0, '1')), 'cancelled',
          'on a failed run a late completion cancels the task left started');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000f0002'), 'failed',
          'and the run stays failed');

SELECT * FROM finish();
