-- Two sessions (dblink) completing the two parents of one conditional child at the same time: the
-- second completion waits for the first (the run's row), and the child is evaluated exactly once
-- (one event, counters right), whether it is skipped, started, fails the run, or the second
-- completion comes through complete_tasks.
\ir fixtures/realtime_stand_in.sql
SELECT plan(21);

SELECT pgflow.create_flow('race');
SELECT pgflow.add_step('race', 'p1');
SELECT pgflow.add_step('race', 'p2');
SELECT pgflow.add_step('race', 'child', ARRAY['p1', 'p2'], required_input_pattern => '{"p1": {"ok": true}}');
SELECT pgflow.create_flow('race_fail');
SELECT pgflow.add_step('race_fail', 'p1');
SELECT pgflow.add_step('race_fail', 'p2');
SELECT pgflow.add_step('race_fail', 'child', ARRAY['p1', 'p2'], required_input_pattern => '{"p1": {"ok": true}}',
                       when_unmet => 'fail');
SELECT pgflow_tests.ensure_worker('race');
SELECT pgflow_tests.ensure_worker('race_fail');
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());

CREATE FUNCTION pg_temp.events(run uuid, pattern text) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages
  WHERE topic = 'pgflow:run:' || run AND event LIKE pattern
$$;
-- The run started and its tasks claimed (committed, by the caller): session 2 completes p1 and keeps
-- its transaction open; session 3 then completes p2 (through complete_task or complete_tasks) and
-- must wait; session 2 commits; session 3's result comes back.
CREATE FUNCTION pg_temp.race(flow text, run uuid, p1_output jsonb, batched boolean) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  waited boolean;
BEGIN
  PERFORM dblink_exec('s2', 'BEGIN');
  PERFORM dblink_exec('s2', format($q$DO $d$ BEGIN PERFORM pgflow.complete_task(%L, 'p1', 0, %L); END $d$$q$, run, p1_output));
  PERFORM dblink_send_query('s3', CASE WHEN batched
    THEN format($q$SELECT count(*) FROM pgflow.complete_tasks(ARRAY[%L]::uuid[], ARRAY['p2'], ARRAY[0], ARRAY['{"v": 2}']::jsonb[])$q$, run)
    ELSE format($q$SELECT count(*) FROM pgflow.complete_task(%L, 'p2', 0, '{"v": 2}')$q$, run) END);
  waited := pgflow_tests.session_waits('s3');
  PERFORM dblink_exec('s2', 'COMMIT');
  PERFORM * FROM dblink_get_result('s3') AS t(n bigint);
  PERFORM * FROM dblink_get_result('s3') AS t(n bigint);
  RETURN waited;
END;
$fn$;

-- 1. Unmet, skip.
SELECT pgflow.start_flow('race', '{}', '00000000-0000-0000-0000-0000000d0001');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 10, pgflow_tests.worker_id());
SELECT ok(pg_temp.race('race', '00000000-0000-0000-0000-0000000d0001', '{"ok": false}', false),
          'the second completion waits for the first');
SELECT results_eq($$SELECT status, remaining_deps, skip_reason FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000d0001' AND step_slug = 'child'$$,
                  $$VALUES ('skipped'::text, 0, 'condition_unmet'::text)$$, 'the child is skipped, with no dependency left');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000d0001', 'step:child:%'), ARRAY['step:child:skipped'], 'one event for it');
SELECT results_eq($$SELECT status, remaining_steps, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0001'$$,
                  $$VALUES ('completed'::text, 0, NULL::jsonb)$$, 'every step counted once; the run completes');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000d0001', 'run:completed'), ARRAY['run:completed'], 'once');

-- 2. Met: the child starts once, with one task.
SELECT pgflow.start_flow('race', '{}', '00000000-0000-0000-0000-0000000d0002');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 10, pgflow_tests.worker_id());
SELECT ok(pg_temp.race('race', '00000000-0000-0000-0000-0000000d0002', '{"ok": true}', false),
          'the second completion waits for the first');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000d0002', 'step:child:%'), ARRAY['step:child:started'], 'the child starts once');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000d0002' AND step_slug = 'child'),
          1::bigint, 'with one task');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0002'$$,
                  $$VALUES ('started'::text, 1)$$, 'one step left');

-- 3. Unmet, skip, the second completion through complete_tasks.
SELECT pgflow.start_flow('race', '{}', '00000000-0000-0000-0000-0000000d0003');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 10, pgflow_tests.worker_id());
SELECT ok(pg_temp.race('race', '00000000-0000-0000-0000-0000000d0003', '{"ok": false}', true),
          'complete_tasks waits for the first completion');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000d0003', 'step:child:%'), ARRAY['step:child:skipped'], 'one event for the child');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0003'$$,
                  $$VALUES ('completed'::text, 0)$$, 'the run completes, counted right');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000d0003' AND status = 'completed'),
          2::bigint, 'both parents'' tasks completed');

-- 4. Unmet, fail: the run fails once.
SELECT pgflow.start_flow('race_fail', '{}', '00000000-0000-0000-0000-0000000d0004');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race_fail', 30, 10, pgflow_tests.worker_id());
SELECT ok(pg_temp.race('race_fail', '00000000-0000-0000-0000-0000000d0004', '{"ok": false}', false),
          'the second completion waits for the first');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000d0004', '%failed'), ARRAY['step:child:failed', 'run:failed'],
          'one step:failed and one run:failed');
SELECT results_eq($$SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0004'$$,
                  $$VALUES ('failed'::text)$$, 'the run failed');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('race_fail')), 0::bigint, 'no message is left in the queue');

-- 5. Same, batched.
SELECT pgflow.start_flow('race_fail', '{}', '00000000-0000-0000-0000-0000000d0005');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race_fail', 30, 10, pgflow_tests.worker_id());
SELECT ok(pg_temp.race('race_fail', '00000000-0000-0000-0000-0000000d0005', '{"ok": false}', true),
          'complete_tasks waits for the first completion');
SELECT is(pg_temp.events('00000000-0000-0000-0000-0000000d0005', '%failed'), ARRAY['step:child:failed', 'run:failed'],
          'one step:failed and one run:failed');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000d0005' AND status IN ('queued', 'started')),
          0::bigint, 'no task is left active');

SELECT dblink_disconnect('s2');
SELECT dblink_disconnect('s3');
SELECT is((SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'), 0::bigint,
          'nobody is left waiting');
