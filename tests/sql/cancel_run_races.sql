-- pgflow_cpp.cancel_run racing, in a second session (dblink), a completion, a claim and another
-- cancel, in both orders: nothing is counted twice or lost, no task of the cancelled run stays
-- active, and the one that waits finds the other's result.
SELECT plan(23);

SELECT pgflow.create_flow('cr');
SELECT pgflow.add_step('cr', 'a');
SELECT pgflow.add_step('cr', 'items', ARRAY['a'], step_type => 'map');
SELECT pgflow_tests.ensure_worker('cr');
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());


-- 1. A completion that starts the map (session 2, open) first; cancel waits for it, then also
--    cancels the tasks that completion created.
SELECT pgflow.start_flow('cr', '{}', '00000000-0000-0000-0000-0000000c1001');
SELECT count(*) FROM pgflow_tests.read_and_start('cr', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow.complete_task('00000000-0000-0000-0000-0000000c1001', 'a', 0, '[1, 2, 3]'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1001')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'cancel waits for the completion in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT b FROM dblink_get_result('s3') AS t(b boolean)), true, 'then cancels the run');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(b boolean)), 0::bigint, 'session 3 is done');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000c1001'),
          ARRAY['a0:completed', 'items0:cancelled', 'items1:cancelled', 'items2:cancelled'],
          'the completion counts, and the map tasks it created are cancelled');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000c1001'$$,
                  $$VALUES ('failed'::text, 1)$$, 'the run counted the completed step once');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('cr')), 0::bigint, 'no message is left in the queue');

-- 2. Cancel first (session 2, open); a completion of a started map task waits, then changes nothing.
SELECT pgflow.start_flow('cr', '{}', '00000000-0000-0000-0000-0000000c1002');
SELECT count(*) FROM pgflow_tests.read_and_start('cr', 30, 10);
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000c1002', 'a', 0, '[1, 2]');
SELECT count(*) FROM pgflow_tests.read_and_start('cr', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1002'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000c1002', 'items', 0, '1')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'a completion waits for the cancel in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT s FROM dblink_get_result('s3') AS t(s text)), 'cancelled', 'then returns the task cancelled');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(s text)), 0::bigint, 'session 3 is done');
SELECT results_eq($$SELECT remaining_tasks, status FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000c1002' AND step_slug = 'items'$$,
                  $$VALUES (2, 'started'::text)$$, 'and counted nothing');

-- 3. A claim (session 2, open) first; cancel waits, then cancels the freshly started tasks.
SELECT pgflow.start_flow('cr', '{}', '00000000-0000-0000-0000-0000000c1003');
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', format($q$DO $d$ BEGIN PERFORM count(*) FROM pgflow.start_tasks('cr', ARRAY[%s]::bigint[], %L); END $d$$q$,
  (SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c1003'), pgflow_tests.worker_id()));
SELECT dblink_send_query('s3', $$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1003')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'cancel waits for the claim in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT b FROM dblink_get_result('s3') AS t(b boolean)), true, 'then cancels the run');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(b boolean)), 0::bigint, 'session 3 is done');
SELECT results_eq($$SELECT status, attempts_count FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c1003'$$,
                  $$VALUES ('cancelled'::text, 1)$$, 'the claimed task is cancelled');

-- 4. Cancel first (session 2, open); a claim of the run's message waits, then claims nothing.
SELECT pgflow.start_flow('cr', '{}', '00000000-0000-0000-0000-0000000c1004');
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1004'); END $d$$q$);
SELECT dblink_send_query('s3', format($$SELECT count(*) FROM pgflow.start_tasks('cr', ARRAY[%s]::bigint[], %L)$$,
  (SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c1004'), pgflow_tests.worker_id()));
SELECT ok(pgflow_tests.session_waits('s3'), 'a claim waits for the cancel in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT n FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'then claims nothing');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'session 3 is done');

-- 5. Two cancels: the second waits and then says it was already cancelled.
SELECT pgflow.start_flow('cr', '{}', '00000000-0000-0000-0000-0000000c1005');
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1005'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1005')$$);
SELECT pg_sleep(0.3);
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT b FROM dblink_get_result('s3') AS t(b boolean)), false, 'a concurrent second cancel returns false');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(b boolean)), 0::bigint, 'session 3 is done');

-- 6. A cancel that PostgreSQL picks as a deadlock's victim (here a trigger raises 40P01 in the
--    first attempt, at its last step: the run:cancelled notification, deferred) undoes that attempt
--    and tries again: one cancellation, each event once.
\ir fixtures/realtime_stand_in.sql
CREATE SEQUENCE pgflow_tests.fake_deadlocks;
CREATE FUNCTION pgflow_tests.fake_deadlock() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF NEW.payload LIKE '%"run:cancelled"%' AND nextval('pgflow_tests.fake_deadlocks') = 1 THEN
    RAISE EXCEPTION 'fake deadlock' USING ERRCODE = 'deadlock_detected';
  END IF;
  RETURN NEW;
END;
$f$;
CREATE TRIGGER fake_deadlock BEFORE INSERT ON pgflow_cpp.deferred_notifications
  FOR EACH ROW EXECUTE FUNCTION pgflow_tests.fake_deadlock();
SELECT pgflow.start_flow('cr', '{}', '00000000-0000-0000-0000-0000000c1006');
BEGIN;
SET LOCAL pgflow_cpp.defer_notifications = on;
SELECT is(pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000c1006'), true, 'a cancel that hit a deadlock is retried');
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY id) FROM pgflow_cpp.deferred_notifications
           WHERE channel = 'pgflow:run:00000000-0000-0000-0000-0000000c1006'),
          ARRAY['step:a:cancelled', 'run:cancelled', 'run:failed'], 'each event once (the aborted attempt''s are gone)');
COMMIT;
SELECT is((SELECT last_value FROM pgflow_tests.fake_deadlocks), 2::bigint, 'the first attempt did hit the deadlock');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000c1006'), ARRAY['a0:cancelled'], 'the task is cancelled');
DROP TRIGGER fake_deadlock ON pgflow_cpp.deferred_notifications;

SELECT dblink_disconnect('s2');
SELECT dblink_disconnect('s3');
SELECT * FROM finish();
