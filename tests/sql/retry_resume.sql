-- pgflow_cpp.retry_run and pgflow_cpp.resume_run: a new run of a failed or cancelled run with the
-- same input and lineage (run_control.restart_of_run_id, pgflow_cpp.run_status both ways); retry
-- runs everything again, resume reuses every completed step and task and runs only the rest, with
-- the output an uninterrupted run gives. Errors name the run and its state; a run is restarted
-- once: a second, also concurrent (dblink), restart is refused.
\ir fixtures/realtime_stand_in.sql
SELECT plan(33);

CREATE FUNCTION pg_temp.events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages WHERE topic = 'pgflow:run:' || run
$$;
-- Claims the run's visible tasks and completes each: a -> [1..10], items[i] -> input * 10, side -> "s",
-- sum -> the sum of its items input; except the items task with index fail_at, which fails for good.
CREATE FUNCTION pg_temp.work(run uuid, fail_at integer DEFAULT -1) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  t record;
  n integer := 0;
BEGIN
  FOR t IN SELECT * FROM pgflow_tests.read_and_start('rr', 30, 1000) WHERE run_id = run ORDER BY step_slug, task_index LOOP
    n := n + 1;
    IF t.step_slug = 'items' AND t.task_index = fail_at THEN
      PERFORM pgflow_cpp.fail_task_permanently(t.run_id, t.step_slug, t.task_index, 'bad item');
    ELSE
      PERFORM pgflow.complete_task(t.run_id, t.step_slug, t.task_index, CASE t.step_slug
        WHEN 'a' THEN (SELECT jsonb_agg(i) FROM generate_series(1, 10) i)
        WHEN 'items' THEN to_jsonb((t.input #>> '{}')::int * 10)
        WHEN 'side' THEN '"s"'::jsonb
        ELSE (SELECT to_jsonb(sum(e::int)) FROM jsonb_array_elements_text(t.input->'items') e) END);
    END IF;
  END LOOP;
  RETURN n;
END;
$$;

SELECT pgflow.create_flow('rr', max_attempts => 3);
SELECT pgflow.add_step('rr', 'a');
SELECT pgflow.add_step('rr', 'side');
SELECT pgflow.add_step('rr', 'items', ARRAY['a'], step_type => 'map');
SELECT pgflow.add_step('rr', 'sum', ARRAY['items', 'side']);
SELECT pgflow_tests.ensure_worker('rr');

-- The reference: an uninterrupted run.
SELECT pgflow.start_flow('rr', '{"k": 1}', '00000000-0000-0000-0000-0000000d0000');
SELECT pgflow_tests.make_visible('rr');
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0000');
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0000');
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0000');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0000'$$,
                  $$VALUES ('completed'::text, '{"sum": 550}'::jsonb)$$, 'the uninterrupted run''s output');

-- A run whose map fails at index 7 after 7 items completed (7 completed; 7 failed; 8, 9 cancelled).
SELECT pgflow.start_flow('rr', '{"k": 1}', '00000000-0000-0000-0000-0000000d0001');
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0001');
SELECT count(*) FROM pgflow.start_tasks('rr', ARRAY(SELECT message_id FROM pgflow.step_tasks
  WHERE run_id = '00000000-0000-0000-0000-0000000d0001' AND step_slug = 'items' AND task_index < 7), pgflow_tests.worker_id());
SELECT count(*) FROM (SELECT pgflow.complete_task(run_id, step_slug, task_index, to_jsonb((task_index + 1) * 10))
                      FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000d0001'
                        AND step_slug = 'items' AND task_index < 7) AS done;
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0001', fail_at => 7);
SELECT results_eq($$SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0001'$$,
                  $$VALUES ('failed'::text)$$, 'fail_task_permanently failed the run at the first attempt');
SELECT results_eq($$SELECT status, attempts_count, error_message FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-0000000d0001' AND step_slug = 'items' AND task_index = 7$$,
                  $$VALUES ('failed'::text, 1, 'bad item'::text)$$, 'with attempts left (1 of 3), the error stored as usual');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000d0001'),
          ARRAY['a0:completed', 'items0:completed', 'items1:completed', 'items2:completed', 'items3:completed',
                'items4:completed', 'items5:completed', 'items6:completed', 'items7:failed', 'items8:cancelled',
                'items9:cancelled', 'side0:completed'], 'the failed run: 7 items done, one failed, two cancelled');

-- Errors.
SELECT throws_ok($$SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000d0999')$$, 'P0002',
                 'Run 00000000-0000-0000-0000-0000000d0999 does not exist', 'resume: unknown run');
SELECT throws_ok($$SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-0000000d0999')$$, 'P0002',
                 'Run 00000000-0000-0000-0000-0000000d0999 does not exist', 'retry: unknown run');
SELECT throws_ok($$SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000d0000')$$, '55000',
                 'Run 00000000-0000-0000-0000-0000000d0000 is completed: only a failed or cancelled run can be resumed',
                 'resume: a completed run is refused, naming its state');
SELECT pgflow.start_flow('rr', '{"k": 2}', '00000000-0000-0000-0000-0000000d0002');
SELECT throws_ok($$SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-0000000d0002')$$, '55000',
                 'Run 00000000-0000-0000-0000-0000000d0002 is started: only a failed or cancelled run can be retried',
                 'retry: a started run is refused, naming its state');

-- Resume.
DELETE FROM realtime.messages;
SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000d0001') AS resumed \gset
SELECT results_eq(format($$SELECT flow_slug, status, input, remaining_steps FROM pgflow.runs WHERE run_id = %L$$, :'resumed'),
                  $$VALUES ('rr'::text, 'started'::text, '{"k": 1}'::jsonb, 2)$$,
                  'resume: a new started run, same flow and input, only items and sum left');
SELECT is(pgflow_tests.task_statuses(:'resumed'),
          ARRAY['a0:completed', 'items0:completed', 'items1:completed', 'items2:completed', 'items3:completed',
                'items4:completed', 'items5:completed', 'items6:completed', 'items7:queued', 'items8:queued',
                'items9:queued', 'side0:completed'], 'completed tasks are reused, the missing three queued');
SELECT is((SELECT array_agg(message->>'task_index' ORDER BY msg_id) FROM pgflow_tests.queued_messages('rr')
           WHERE message->>'run_id' = :'resumed'), ARRAY['7', '8', '9'], 'one message per missing task, nothing else');
SELECT results_eq(format($$SELECT step_slug, status, remaining_tasks, remaining_deps, initial_tasks
                           FROM pgflow.step_states WHERE run_id = %L ORDER BY step_slug$$, :'resumed'),
                  $$VALUES ('a'::text, 'completed'::text, 0, 0, 1), ('items', 'started', 3, 0, 10),
                           ('side', 'completed', 0, 0, 1), ('sum', 'created', NULL, 1, 1)$$,
                  'step states: reused steps completed, the map started with 3 tasks left, sum waits for it');
SELECT is(pg_temp.events(:'resumed'), ARRAY['run:started', 'step:items:started'], 'events: run:started, step:items:started');
SELECT is((SELECT payload->'remaining_tasks' FROM realtime.messages WHERE event = 'step:items:started'), '3'::jsonb,
          'step:started says 3 tasks remain');
SELECT results_eq(format($$SELECT restart_of_run_id, restart_kind, status FROM pgflow_cpp.run_status(%L)$$, :'resumed'),
                  $$VALUES ('00000000-0000-0000-0000-0000000d0001'::uuid, 'resume'::text, 'started'::text)$$,
                  'run_status: the resumed run names its predecessor');
SELECT results_eq($$SELECT restarted_as_run_id::text, restarted_as_kind, status FROM pgflow_cpp.run_status('00000000-0000-0000-0000-0000000d0001')$$,
                  format($$VALUES (%L::text, 'resume'::text, 'failed'::text)$$, :'resumed'),
                  'run_status: the old run names its successor');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000d0001'),
          ARRAY['a0:completed', 'items0:completed', 'items1:completed', 'items2:completed', 'items3:completed',
                'items4:completed', 'items5:completed', 'items6:completed', 'items7:failed', 'items8:cancelled',
                'items9:cancelled', 'side0:completed'], 'the old run is unchanged');
SELECT is(pg_temp.work(:'resumed'), 3, 'exactly the three missing items run');
SELECT is(pg_temp.work(:'resumed'), 1, 'then sum');
SELECT results_eq(format($$SELECT status, output FROM pgflow.runs WHERE run_id = %L$$, :'resumed'),
                  $$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0000'$$,
                  'the resumed run completes with the uninterrupted run''s output');
SELECT throws_ok($$SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-0000000d0001')$$, '55000',
                 format('Run 00000000-0000-0000-0000-0000000d0001 was already restarted as run %s (resume)', :'resumed'),
                 'a run is restarted once: a later retry names the restart');

-- Retry of a cancelled run.
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000d0002');
DELETE FROM realtime.messages;
SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-0000000d0002') AS retried \gset
SELECT results_eq(format($$SELECT flow_slug, status, input, remaining_steps FROM pgflow.runs WHERE run_id = %L$$, :'retried'),
                  $$VALUES ('rr'::text, 'started'::text, '{"k": 2}'::jsonb, 4)$$, 'retry: a new run of everything, same input');
SELECT is(pgflow_tests.task_statuses(:'retried'), ARRAY['a0:queued', 'side0:queued'], 'retry reuses nothing');
SELECT is(pg_temp.events(:'retried'), ARRAY['run:started', 'step:a:started', 'step:side:started'], 'events as start_flow');
SELECT results_eq(format($$SELECT restart_of_run_id, restart_kind FROM pgflow_cpp.run_status(%L)$$, :'retried'),
                  $$VALUES ('00000000-0000-0000-0000-0000000d0002'::uuid, 'retry'::text)$$, 'lineage of the retry');
SELECT results_eq($$SELECT status, restarted_as_kind FROM pgflow_cpp.run_status('00000000-0000-0000-0000-0000000d0002')$$,
                  $$VALUES ('cancelled'::text, 'retry'::text)$$, 'the cancelled run stays cancelled and names its retry');

-- Two concurrent retries of one run: the second waits for the first and is refused.
SELECT pgflow_cpp.cancel_run(:'retried');
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
BEGIN;
SELECT pgflow_cpp.retry_run(:'retried') AS first_retry \gset
SELECT dblink_send_query('s2', format('SELECT pgflow_cpp.retry_run(%L)', :'retried'));
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('s2'), 1, 'a concurrent second retry waits for the first');
COMMIT;
SELECT throws_ok(format($$SELECT * FROM dblink_get_result('s2') AS t(r uuid)$$), NULL,
                 format('Run %s was already restarted as run %s (retry)', :'retried', :'first_retry'),
                 'then it is refused, naming the first retry''s run');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE restart_of_run_id = :'retried'), 1::bigint,
          'one run was started');
SELECT dblink_disconnect('s2');

-- Resume refuses a flow whose shape changed since.
SELECT pgflow.add_step('rr', 'extra', ARRAY['sum']);
SELECT pgflow_cpp.cancel_run(:'first_retry');
SELECT throws_ok(format('SELECT pgflow_cpp.resume_run(%L)', :'first_retry'), '55000',
                 format('Run %s cannot be resumed: flow rr has changed shape since the run started (steps added: extra)', :'first_retry'),
                 'resume: a flow with steps added since is refused');
SELECT lives_ok(format('SELECT pgflow_cpp.retry_run(%L)', :'first_retry'), 'retry still works');

-- Resume of a run with a dependent map whose size was not known yet (its dependency not completed).
SELECT pgflow.start_flow('rr', '{"k": 3}', '00000000-0000-0000-0000-0000000d0003');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000d0003');
SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000d0003') AS fresh \gset
SELECT results_eq(format($$SELECT step_slug, status, remaining_deps, initial_tasks FROM pgflow.step_states
                           WHERE run_id = %L ORDER BY step_slug$$, :'fresh'),
                  $$VALUES ('a'::text, 'started'::text, 0, 1), ('extra', 'created', 1, 1), ('items', 'created', 1, NULL),
                           ('side', 'started', 0, 1), ('sum', 'created', 2, 1)$$,
                  'resume of a run that completed nothing is a run from the start');

-- A resumed run that fails again is resumed again: the copies are reused like originals.
SELECT pgflow.start_flow('rr', '{"k": 4}', '00000000-0000-0000-0000-0000000d0004');
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0004');
SELECT pg_temp.work('00000000-0000-0000-0000-0000000d0004', fail_at => 9);
SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000d0004') AS second \gset
SELECT pgflow_cpp.cancel_run(:'second');
SELECT pgflow_cpp.resume_run(:'second') AS third \gset
SELECT is(pgflow_tests.task_statuses(:'third'),
          ARRAY['a0:completed', 'items0:completed', 'items1:completed', 'items2:completed',
                'items3:completed', 'items4:completed', 'items5:completed', 'items6:completed', 'items7:completed',
                'items8:completed', 'items9:queued', 'side0:completed'], 'a resume of a resume reuses the reused tasks');

SELECT * FROM finish();
