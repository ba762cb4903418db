-- pgflow_cpp.cancel_run: a started run ends cancelled (pgflow.runs 'failed', run_control.cancelled_at,
-- run_status 'cancelled'), its queued and started tasks become 'cancelled' with their messages
-- archived, step:<slug>:cancelled then run:cancelled are sent; late callbacks change nothing;
-- cancelling twice is harmless; finished and unknown runs are refused. Also pgflow 0.15.1's rule:
-- a run that fails cancels its other active tasks.
\ir fixtures/realtime_stand_in.sql
SELECT plan(31);

CREATE FUNCTION pg_temp.events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages WHERE topic = 'pgflow:run:' || run
$$;
CREATE FUNCTION pg_temp.payload(run uuid, ev text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT payload FROM realtime.messages WHERE topic = 'pgflow:run:' || run AND event = ev ORDER BY id DESC LIMIT 1
$$;

SELECT pgflow.create_flow('cx', max_attempts => 2, base_delay => 0);
SELECT pgflow.add_step('cx', 'a');
SELECT pgflow.add_step('cx', 'b');
SELECT pgflow.add_step('cx', 'items', ARRAY['a'], step_type => 'map');
SELECT pgflow.add_step('cx', 'last', ARRAY['items', 'b']);
SELECT pgflow_tests.ensure_worker('cx');

-- A run with a completed step, a map with a completed, a started and two queued tasks, and a started single step.
SELECT pgflow.start_flow('cx', '{"n": 1}', '00000000-0000-0000-0000-0000000c0001');
SELECT count(*) FROM pgflow_tests.read_and_start('cx', 30, 10);
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000c0001', 'a', 0, '[1, 2, 3, 4]');
SELECT count(*) FROM pgflow.start_tasks('cx', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                   WHERE step_slug = 'items' AND task_index < 2), pgflow_tests.worker_id());
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000c0001', 'items', 0, '10');
CREATE TEMP TABLE active_msgs AS
  SELECT array_agg(message_id ORDER BY message_id) AS ids FROM pgflow.step_tasks
  WHERE run_id = '00000000-0000-0000-0000-0000000c0001' AND status IN ('queued', 'started');
CREATE TEMP TABLE counters AS
  SELECT step_slug, status, remaining_tasks, remaining_deps FROM pgflow.step_states
  WHERE run_id = '00000000-0000-0000-0000-0000000c0001';
DELETE FROM realtime.messages;

SELECT is(pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c0001'), true, 'cancel_run returns true when it cancels');
SELECT results_eq($$SELECT r.status, r.failed_at IS NOT NULL, r.completed_at, c.cancelled_at = r.failed_at
                    FROM pgflow.runs r JOIN pgflow_cpp.run_control c USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-0000000c0001'$$,
                  $$VALUES ('failed'::text, true, NULL::timestamptz, true)$$,
                  'the run is failed in pgflow.runs (0.8.1 callers see it finished), cancelled_at = failed_at');
SELECT is((SELECT status FROM pgflow_cpp.run_status('00000000-0000-0000-0000-0000000c0001')), 'cancelled',
          'run_status says cancelled');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000c0001'),
          ARRAY['a0:completed', 'b0:cancelled', 'items0:completed', 'items1:cancelled', 'items2:cancelled', 'items3:cancelled'],
          'queued and started tasks are cancelled, completed ones kept');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE status = 'cancelled'
           AND (failed_at IS NOT NULL OR completed_at IS NOT NULL OR output IS NOT NULL)), 0::bigint,
          'a cancelled task gets no failed_at, completed_at or output');
SELECT ok((SELECT ids FROM active_msgs) <@ pgflow_tests.archived_ids('cx'), 'their messages are archived');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('cx')), 0::bigint, 'the queue is empty');
SELECT results_eq($$SELECT step_slug, status, remaining_tasks, remaining_deps FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000c0001' ORDER BY step_slug$$,
                  $$SELECT * FROM counters ORDER BY step_slug$$, 'step states and counters are left as they were');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000c0001'),
          ARRAY['step:b:cancelled', 'step:items:cancelled', 'run:cancelled', 'run:failed'],
          'events: step:<slug>:cancelled per step with active tasks (step order), run:cancelled, then run:failed for 0.8.1 listeners');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-0000000c0001', 'step:items:cancelled'),
          jsonb_build_object('event_type', 'step:cancelled', 'run_id', '00000000-0000-0000-0000-0000000c0001',
                             'step_slug', 'items', 'status', 'cancelled', 'cancelled_tasks', 3,
                             'cancelled_at', (SELECT failed_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000c0001')),
          'step:cancelled payload');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-0000000c0001', 'run:cancelled'),
          jsonb_build_object('event_type', 'run:cancelled', 'run_id', '00000000-0000-0000-0000-0000000c0001',
                             'flow_slug', 'cx', 'status', 'cancelled',
                             'cancelled_at', (SELECT failed_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000c0001')),
          'run:cancelled payload');

-- Late callbacks of the cancelled run change nothing.
DELETE FROM realtime.messages;
SELECT is((SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000c0001', 'items', 1, '20')), 'cancelled',
          'a late complete_task returns the cancelled task unchanged');
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000c0001', 'b', 0, 'late')), 'cancelled',
          'a late fail_task returns the cancelled task unchanged');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(ARRAY['00000000-0000-0000-0000-0000000c0001'::uuid], ARRAY['items'],
                                                     ARRAY[2], ARRAY['30'::jsonb]) WHERE status = 'completed'), 0::bigint,
          'a late complete_tasks completes nothing');
SELECT is((SELECT count(*) FROM pgflow.start_tasks('cx', (SELECT ids FROM active_msgs), pgflow_tests.worker_id())), 0::bigint,
          'a late start_tasks with the old messages claims nothing');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000c0001'),
          ARRAY['a0:completed', 'b0:cancelled', 'items0:completed', 'items1:cancelled', 'items2:cancelled', 'items3:cancelled'],
          'the tasks are unchanged');
SELECT results_eq($$SELECT step_slug, status, remaining_tasks, remaining_deps FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000c0001' ORDER BY step_slug$$,
                  $$SELECT * FROM counters ORDER BY step_slug$$, 'no counter moved');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000c0001'), '{}'::text[], 'and no event was sent');

-- Twice, finished runs, unknown runs.
SELECT is(pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c0001'), false, 'cancelling again returns false');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000c0001'), '{}'::text[], 'and sends nothing');
SELECT throws_ok($$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c0999')$$, 'P0002',
                 'Run 00000000-0000-0000-0000-0000000c0999 does not exist', 'an unknown run is a clear error');

SELECT pgflow.start_flow('cx', '{"n": 2}', '00000000-0000-0000-0000-0000000c0002');
SELECT pgflow_tests.run_visible_tasks('cx', '[1]');
SELECT pgflow_tests.run_visible_tasks('cx', '1');
SELECT pgflow_tests.run_visible_tasks('cx', '1');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000c0002'), 'completed', 'a run completed');
SELECT throws_ok($$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c0002')$$, '55000',
                 'Run 00000000-0000-0000-0000-0000000c0002 is completed: only a started run can be cancelled',
                 'cancelling a completed run names the run and its state');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE run_id = '00000000-0000-0000-0000-0000000c0002'), 0::bigint,
          'and records nothing');

-- pgflow 0.15.1: a run that fails cancels its other active tasks (and archives their messages).
SELECT pgflow.start_flow('cx', '{"n": 3}', '00000000-0000-0000-0000-0000000c0003');
SELECT count(*) FROM pgflow.start_tasks('cx', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                   WHERE run_id = '00000000-0000-0000-0000-0000000c0003' AND step_slug = 'a'),
                                        pgflow_tests.worker_id());
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000c0003', 'a', 0, 'first');
SELECT count(*) FROM pgflow.start_tasks('cx', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                   WHERE run_id = '00000000-0000-0000-0000-0000000c0003' AND step_slug = 'a'),
                                        pgflow_tests.worker_id());
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000c0003', 'a', 0, 'second');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000c0003'), ARRAY['a0:failed', 'b0:cancelled'],
          'a failing run: the culprit failed, the other active task cancelled');
SELECT ok((SELECT array_agg(message_id) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c0003')
          <@ pgflow_tests.archived_ids('cx'), 'all of its messages archived');
SELECT throws_ok($$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c0003')$$, '55000',
                 'Run 00000000-0000-0000-0000-0000000c0003 is failed: only a started run can be cancelled',
                 'cancelling a failed run names the run and its state');
SELECT is((SELECT status FROM pgflow_cpp.run_status('00000000-0000-0000-0000-0000000c0003')), 'failed',
          'run_status of a failed run says failed');

-- The type violation fails the run too: its other active tasks are cancelled.
SELECT pgflow.create_flow('tv');
SELECT pgflow.add_step('tv', 'src');
SELECT pgflow.add_step('tv', 'side');
SELECT pgflow.add_step('tv', 'each', ARRAY['src'], step_type => 'map');
SELECT pgflow.start_flow('tv', '{}', '00000000-0000-0000-0000-0000000c0004');
SELECT count(*) FROM pgflow_tests.read_and_start('tv', 30, 10);
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000c0004', 'src', 0, '"not an array"');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000c0004'), ARRAY['side0:cancelled', 'src0:failed'],
          'a type violation: the culprit failed, the other active task cancelled');

-- The events also arrive by pg_notify on pgflow:run:<run_id>, after the commit, with "event".
SELECT pgflow.start_flow('cx', '{"n": 5}', '00000000-0000-0000-0000-0000000c0005');
SELECT dblink_connect('listener', pgflow_tests.dblink_connstr());
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-0000000c0005"');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c0005');
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 4);
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY seq) FROM got),
          ARRAY['step:a:cancelled', 'step:b:cancelled', 'run:cancelled', 'run:failed'], 'pg_notify: the same events, in order');
SELECT is((SELECT payload::jsonb - 'cancelled_at' FROM got WHERE seq = 3),
          '{"event": "run:cancelled", "event_type": "run:cancelled", "run_id": "00000000-0000-0000-0000-0000000c0005",
            "flow_slug": "cx", "status": "cancelled"}'::jsonb, 'pg_notify: run:cancelled payload plus "event"');
SELECT dblink_disconnect('listener');

SELECT * FROM finish();
