-- A transaction that sets pgflow_cpp.defer_notifications = 'on' (locally) NOTIFYs nothing: its
-- notifications wait in pgflow_cpp.deferred_notifications until
-- pgflow_cpp.publish_deferred_notifications() sends them, oldest first, in a transaction of its
-- own. Without the setting every notification is sent at once (events_notify.sql).
SELECT plan(22);

SELECT pgflow.create_flow('later');
SELECT pgflow.add_step('later', 'a');
SELECT pgflow.add_step('later', 'b', ARRAY['a']);
SELECT pgflow_tests.ensure_worker('later');

SELECT dblink_connect('listener', pgflow_tests.dblink_connstr());
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000d001"');
SELECT dblink_exec('listener', 'LISTEN "pgflow:queue:later"');

SELECT has_table('pgflow_cpp', 'deferred_notifications', 'the deferred notifications table exists');
SELECT is((SELECT relpersistence FROM pg_class WHERE oid = 'pgflow_cpp.deferred_notifications'::regclass), 'u',
          'it is unlogged: publishing writes no WAL, so its commit does not wait for a flush');
SELECT is((SELECT relpersistence FROM pg_class
           WHERE oid = pg_get_serial_sequence('pgflow_cpp.deferred_notifications', 'id')::regclass), 'p',
          'its id sequence is logged: an unlogged one is all zeroes on a promoted standby');

-- Deferred: nothing is delivered at commit; the rows wait.
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT pgflow.start_flow('later', '{"n": 1}', '00000000-0000-0000-0000-00000000d001');
COMMIT;
SELECT is((SELECT count(*) FROM pgflow_tests.wait_notifications('listener', 1, 0.3)), 0::bigint,
          'a deferring transaction notifies nothing when it commits');
SELECT is((SELECT array_agg(CASE WHEN channel LIKE 'pgflow:queue:%' THEN channel ELSE payload::jsonb->>'event' END ORDER BY id)
           FROM pgflow_cpp.deferred_notifications),
          ARRAY['run:started', 'step:a:started', 'pgflow:queue:later'],
          'its notifications are recorded in the order they were made');
SELECT is(current_setting('pgflow_cpp.defer_notifications', true), '',
          'the setting was local to that transaction');

-- Published: delivered in order, rows gone.
SELECT is(pgflow_cpp.publish_deferred_notifications(), 3, 'publishing sends the three notifications');
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 3);
SELECT is((SELECT array_agg(CASE WHEN channel LIKE 'pgflow:queue:%' THEN channel ELSE payload::jsonb->>'event' END ORDER BY seq) FROM got),
          ARRAY['run:started', 'step:a:started', 'pgflow:queue:later'],
          'the listener gets them oldest first, as an immediate NOTIFY would have sent them');
SELECT is((SELECT payload::jsonb - 'started_at' FROM got WHERE seq = 1),
          '{"event": "run:started", "event_type": "run:started", "run_id": "00000000-0000-0000-0000-00000000d001",
            "flow_slug": "later", "input": {"n": 1}, "status": "started", "remaining_steps": 2}'::jsonb,
          'with the same payload');
SELECT is((SELECT count(*) FROM pgflow_cpp.deferred_notifications), 0::bigint, 'published rows are removed');
SELECT is(pgflow_cpp.publish_deferred_notifications(), 0, 'publishing again sends nothing');

-- A rolled-back deferring transaction leaves nothing behind.
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"x"') FROM pgflow_tests.read_and_start('later') t;
ROLLBACK;
SELECT is((SELECT count(*) FROM pgflow_cpp.deferred_notifications), 0::bigint,
          'a rolled-back transaction defers nothing');

-- max_count publishes the oldest first and leaves the rest.
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"x"') FROM pgflow_tests.read_and_start('later') t;
COMMIT;
SELECT is(pgflow_cpp.publish_deferred_notifications(1), 1, 'max_count bounds one publication');
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY id) FILTER (WHERE channel LIKE 'pgflow:run:%')
           FROM pgflow_cpp.deferred_notifications),
          ARRAY['step:b:started'], 'the oldest went first (step:a:completed), the rest waits');

-- Rows another session is publishing are skipped, not waited for, and not sent twice.
SELECT dblink_connect('other', pgflow_tests.dblink_connstr());
SELECT dblink_exec('other', 'BEGIN');
SELECT is((SELECT n FROM dblink('other', 'SELECT pgflow_cpp.publish_deferred_notifications()') AS r(n integer)), 2,
          'another session takes the remaining two (its transaction still open)');
SELECT is(pgflow_cpp.publish_deferred_notifications(), 0,
          'a concurrent publication skips the rows that session holds');
SELECT dblink_exec('other', 'COMMIT');
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 3);
SELECT is((SELECT array_agg(CASE WHEN channel LIKE 'pgflow:queue:%' THEN channel ELSE payload::jsonb->>'event' END ORDER BY seq) FROM got),
          ARRAY['step:a:completed', 'step:b:started', 'pgflow:queue:later'],
          'once that session commits, everything has been delivered exactly once');
SELECT dblink_disconnect('other');

-- A publication reads from the first row its session deferred, not from the oldest row (with
-- vacuum held back, the rows earlier publications deleted would be scanned every time); rows a
-- session left when it died are read by a session with nothing deferred, and by any session at
-- most 5 s after its last full read.
CREATE FUNCTION pg_temp.die_with_a_deferred_row(payload text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM dblink_connect('ghost', pgflow_tests.dblink_connstr());
  PERFORM dblink_exec('ghost', format($d$DO $b$ BEGIN
    PERFORM set_config('pgflow_cpp.defer_notifications', 'on', true);
    PERFORM pgflow_cpp.notify('pgflow:run:00000000-0000-0000-0000-00000000d001', %L); END $b$$d$, payload));
  PERFORM dblink_disconnect('ghost');
END;
$f$;
CREATE FUNCTION pg_temp.defer_one(payload text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM set_config('pgflow_cpp.defer_notifications', 'on', true);
  PERFORM pgflow_cpp.notify('pgflow:run:00000000-0000-0000-0000-00000000d001', payload);
  PERFORM set_config('pgflow_cpp.defer_notifications', '', true);
END;
$f$;
SELECT is(pgflow_cpp.publish_deferred_notifications(), 0, 'nothing is left (this session has just read every row)');
SELECT pg_temp.die_with_a_deferred_row('ghost 1');
SELECT pg_temp.defer_one('mine 1');
SELECT is(pgflow_cpp.publish_deferred_notifications(), 1, 'a publication sends the rows its session deferred');
SELECT is((SELECT array_agg(payload) FROM pgflow_cpp.deferred_notifications), ARRAY['ghost 1'],
          'and does not read the older row of a session that died');
SELECT dblink_connect('fresh', pgflow_tests.dblink_connstr());
SELECT is((SELECT n FROM dblink('fresh', 'SELECT pgflow_cpp.publish_deferred_notifications()') AS r(n integer)), 1,
          'a session with nothing deferred reads from the oldest row: the dead session''s row is sent');
SELECT dblink_disconnect('fresh');
SELECT pg_temp.die_with_a_deferred_row('ghost 2');
SELECT pg_temp.defer_one('mine 2');
SELECT pg_sleep(5.1);
SELECT is(pgflow_cpp.publish_deferred_notifications(), 2,
          'at most 5 s after its last full read a session reads from the oldest row again');
SELECT dblink_disconnect('listener');

SELECT * FROM finish();
