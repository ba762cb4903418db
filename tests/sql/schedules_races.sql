-- run_due_schedules in two sessions (dblink) at once: the second skips what the first has
-- locked instead of waiting, and after the first commits finds nothing due: exactly one run per
-- tick. remove_schedule and set_schedule_enabled wait for a tick in flight. The lease has one
-- holder when two schedulers ask at once.
SELECT plan(11);

SELECT pgflow.create_flow('race');
SELECT pgflow.add_step('race', 'a');
-- Sections 1 and 2 count every_minute's due ticks, and one more falls due at each minute
-- boundary: they start early in a minute (they take a few seconds), not across its end.
SELECT pg_sleep(61 - extract(second FROM clock_timestamp())) WHERE extract(second FROM clock_timestamp()) > 40;
SELECT pgflow_cpp.add_schedule('every_minute', 'race', '* * * * *', catch_up => 'all');
SELECT pgflow_cpp.add_schedule('every_hour', 'race', '0 * * * *');
UPDATE pgflow_cpp.schedules SET next_run_at = date_trunc('minute', now()) - interval '2 minutes' WHERE name = 'every_minute';
UPDATE pgflow_cpp.schedules SET next_run_at = date_trunc('hour', now()) WHERE name = 'every_hour';
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());

-- 1. Session 2 ticks in an open transaction; session 3 ticks meanwhile: it does not wait and
--    starts nothing; after the commit a tick by session 3 finds nothing due either.
SELECT dblink_exec('s2', 'BEGIN');
SELECT is((SELECT n FROM dblink('s2', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules()') AS t(n bigint)), 4::bigint,
          'session 2 starts the due ticks (three of every_minute, one of every_hour)');
SELECT is((SELECT n FROM dblink('s3', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules()') AS t(n bigint)), 0::bigint,
          'session 3 at the same time skips the locked schedules without waiting');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT n FROM dblink('s3', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules()') AS t(n bigint)), 0::bigint,
          'after the commit nothing is due');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'race'), 4::bigint, 'four runs in all');
SELECT is((SELECT count(DISTINCT (schedule_id, scheduled_at)) FROM pgflow_cpp.schedule_runs), 4::bigint, 'one per tick');

-- 2. Both sessions tick together, many times over: every tick is started once.
UPDATE pgflow_cpp.schedules SET next_run_at = date_trunc('minute', now()) - interval '40 minutes' WHERE name = 'every_minute';
SELECT dblink_send_query('s2', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules(1) CROSS JOIN generate_series(1, 1)');
SELECT dblink_send_query('s3', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules(1)');
SELECT count(*) FROM dblink_get_result('s2') AS t(n bigint);
SELECT count(*) FROM dblink_get_result('s2') AS t(n bigint);
SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint);
SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint);
DO $$
DECLARE
  a bigint;
  b bigint;
BEGIN
  FOR i IN 1 .. 100 LOOP
    PERFORM dblink_send_query('s2', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules(2)');
    PERFORM dblink_send_query('s3', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules(2)');
    SELECT n INTO a FROM dblink_get_result('s2') AS t(n bigint);
    PERFORM * FROM dblink_get_result('s2') AS t(n bigint);
    SELECT n INTO b FROM dblink_get_result('s3') AS t(n bigint);
    PERFORM * FROM dblink_get_result('s3') AS t(n bigint);
    EXIT WHEN a = 0 AND b = 0;
  END LOOP;
END $$;
SELECT is((SELECT count(*) FROM pgflow_cpp.schedule_runs WHERE schedule_name = 'every_minute'), 41::bigint,
          'racing sessions started each of the 41 ticks once (the last three were started in 1)');
SELECT is((SELECT count(*) FROM pgflow.runs r JOIN pgflow_cpp.schedule_runs s USING (run_id) WHERE s.schedule_name = 'every_minute'),
          41::bigint, 'one run per tick');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'race'), 42::bigint, 'and no run without a tick');

-- 3. remove_schedule waits for a tick in flight, then removes.
UPDATE pgflow_cpp.schedules SET next_run_at = date_trunc('hour', now()) - interval '1 hour' WHERE name = 'every_hour';
SELECT dblink_exec('s2', 'BEGIN');
SELECT * FROM dblink('s2', 'SELECT count(*) FROM pgflow_cpp.run_due_schedules()') AS t(n bigint);
SELECT dblink_send_query('s3', $$SELECT pgflow_cpp.remove_schedule('every_hour')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'remove_schedule waits for the tick in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT b FROM dblink_get_result('s3') AS t(b boolean)), true, 'then removes the schedule');

-- 4. Two schedulers ask for the lease at once: one gets it.
SELECT * FROM dblink_get_result('s3') AS t(b boolean);
CREATE TEMP TABLE lease_answers (held boolean);
SELECT dblink_send_query('s2', $$SELECT pgflow_cpp.acquire_scheduler_lease('two', 30)$$);
SELECT dblink_send_query('s3', $$SELECT pgflow_cpp.acquire_scheduler_lease('three', 30)$$);
INSERT INTO lease_answers SELECT b FROM dblink_get_result('s2') AS t(b boolean);
INSERT INTO lease_answers SELECT b FROM dblink_get_result('s3') AS t(b boolean);
SELECT is((SELECT count(*) FILTER (WHERE held) || ' of ' || count(*) FROM lease_answers), '1 of 2',
          'exactly one of two concurrent schedulers holds the lease');

SELECT * FROM finish();
