-- An exhausted task whose step has when_exhausted 'skip' racing, in a second session (dblink), a
-- sibling's failure, a sibling's completion and cancel_run, in both orders: the step is skipped
-- once (one step:skipped, remaining_steps counted down once), no task of a skipped step or a
-- cancelled run stays active, and the one that waits finds the other's result.
\ir fixtures/realtime_stand_in.sql
SELECT plan(26);

SELECT pgflow.create_flow('wr', max_attempts => 1);
SELECT pgflow.add_step('wr', 'm', step_type => 'map', when_exhausted => 'skip');
SELECT pgflow.add_step('wr', 'z', ARRAY['m']);
SELECT pgflow.create_flow('wc', max_attempts => 1);
SELECT pgflow.add_step('wc', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wc', 'b', ARRAY['a']);
SELECT pgflow_tests.ensure_worker('wr');
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());

CREATE FUNCTION pg_temp.skipped_events(run uuid) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM realtime.messages WHERE topic = 'pgflow:run:' || run AND event = 'step:m:skipped'
$$;

-- (a) Two sibling map tasks exhausted at once: the second waits, then finds the step skipped.
SELECT pgflow.start_flow('wr', '[1, 2, 3]', '00000000-0000-0000-0000-0000000e1001');
SELECT count(*) FROM pgflow_tests.read_and_start('wr', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow.fail_task('00000000-0000-0000-0000-0000000e1001', 'm', 0, 'one'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000e1001', 'm', 1, 'two')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'sibling failures: the second waits for the first');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT s FROM dblink_get_result('s3') AS t(s text)), 'skipped', 'then finds its step skipped: its task is skipped');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(s text)), 0::bigint, 'session 3 is done');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000e1001'), ARRAY['m0:failed', 'm1:skipped', 'm2:skipped', 'z0:queued'],
          'one failed task, the siblings skipped, the dependent started');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000e1001'$$,
                  $$VALUES ('started'::text, 1)$$, 'remaining_steps counted down once');
SELECT is(pg_temp.skipped_events('00000000-0000-0000-0000-0000000e1001'), 1::bigint, 'one step:skipped');

-- (b1) The exhausting failure first; a sibling's completion waits, then changes nothing of the step.
SELECT pgflow.start_flow('wr', '[1, 2, 3]', '00000000-0000-0000-0000-0000000e1002');
SELECT count(*) FROM pgflow_tests.read_and_start('wr', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow.fail_task('00000000-0000-0000-0000-0000000e1002', 'm', 0, 'one'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000e1002', 'm', 1, '1')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'failure first: the sibling''s completion waits');
SELECT dblink_exec('s2', 'COMMIT');
SELECT ok((SELECT s FROM dblink_get_result('s3') AS t(s text)) IN ('completed', 'skipped'), 'then ends its task');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(s text)), 0::bigint, 'session 3 is done');
SELECT results_eq($$SELECT status, skip_reason, remaining_tasks, completed_at FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000e1002' AND step_slug = 'm'$$,
                  $$VALUES ('skipped'::text, 'handler_failed'::text, NULL::integer, NULL::timestamptz)$$, 'the step stays skipped');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000e1002'$$,
                  $$VALUES ('started'::text, 1)$$, 'remaining_steps counted down once');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000e1002' AND step_slug = 'm'
             AND status IN ('queued', 'started')), 0::bigint, 'no task of the skipped step stays active');

-- (b2) A sibling's completion first; the exhausting failure waits, then skips the step.
SELECT pgflow.start_flow('wr', '[1, 2, 3]', '00000000-0000-0000-0000-0000000e1003');
SELECT count(*) FROM pgflow_tests.read_and_start('wr', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow.complete_task('00000000-0000-0000-0000-0000000e1003', 'm', 1, '1'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000e1003', 'm', 0, 'one')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'completion first: the failure waits');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT s FROM dblink_get_result('s3') AS t(s text)), 'failed', 'then fails its task');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(s text)), 0::bigint, 'session 3 is done');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000e1003'), ARRAY['m0:failed', 'm1:completed', 'm2:skipped', 'z0:queued'],
          'the completed sibling stays completed, the other is skipped, the dependent started');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000e1003'), 1,
          'remaining_steps counted down once');

-- (c1) The exhausting failure first; cancel_run waits, then cancels what the skip started.
SELECT pgflow.start_flow('wc', '{}', '00000000-0000-0000-0000-0000000e1004');
SELECT count(*) FROM pgflow_tests.read_and_start('wc', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow.fail_task('00000000-0000-0000-0000-0000000e1004', 'a', 0, 'one'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000e1004')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'failure first: cancel waits');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT b FROM dblink_get_result('s3') AS t(b boolean)), true, 'then cancels the run');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(b boolean)), 0::bigint, 'session 3 is done');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000e1004'), ARRAY['a0:failed', 'b0:cancelled'],
          'the skipped step''s task stays failed, the dependent the skip started is cancelled');
SELECT results_eq($$SELECT r.status, c.status, s.status FROM pgflow.runs r
                    CROSS JOIN pgflow_cpp.run_status(r.run_id) c JOIN pgflow.step_states s USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-0000000e1004' AND s.step_slug = 'a'$$,
                  $$VALUES ('failed'::text, 'cancelled'::text, 'skipped'::text)$$, 'the run is cancelled, the step stays skipped');

-- (c2) cancel_run first; the exhausting failure waits, then changes nothing.
SELECT pgflow.start_flow('wc', '{}', '00000000-0000-0000-0000-0000000e1005');
SELECT count(*) FROM pgflow_tests.read_and_start('wc', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000e1005'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000e1005', 'a', 0, 'one')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'cancel first: the failure waits');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT s FROM dblink_get_result('s3') AS t(s text)), 'cancelled', 'then returns the task cancelled');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(s text)), 0::bigint, 'session 3 is done');
SELECT results_eq($$SELECT s.status, r.remaining_steps, (SELECT count(*) FROM realtime.messages m
                      WHERE m.topic = 'pgflow:run:' || r.run_id AND m.event LIKE '%skipped')
                    FROM pgflow.runs r JOIN pgflow.step_states s USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-0000000e1005' AND s.step_slug = 'a'$$,
                  $$VALUES ('started'::text, 2, 0::bigint)$$, 'nothing skipped, nothing counted, no event');

SELECT dblink_disconnect('s2');
SELECT dblink_disconnect('s3');
SELECT * FROM finish();
