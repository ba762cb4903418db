-- Timeouts (sql/README.md, difference 1): a claimed task's message is hidden for timeout + 2 s; a task still
-- started after that deadline (its worker presumed dead) is claimed again as a new attempt, and
-- fails like a handler failure once its attempts are used up. The recorded error names the
-- attempt and what its worker's row says: still heartbeating (the handler ran long), silent for
-- over 10 s (crashed) or stopped. Time is moved by editing started_at / vt / heartbeats instead of
-- sleeping.
SELECT plan(28);

SELECT pgflow.create_flow('stall', max_attempts => 2, timeout => 10);
SELECT pgflow.add_step('stall', 'slow');
SELECT pgflow.add_step('stall', 'custom', timeout => 30, max_attempts => 5);
SELECT pgflow_tests.ensure_worker('stall');
SELECT pgflow_tests.ensure_worker('stall', '22222222-2222-2222-2222-222222222222');
SELECT pgflow.start_flow('stall', '{}', '00000000-0000-0000-0000-0000000000c1');

CREATE FUNCTION pg_temp.claim(worker uuid DEFAULT pgflow_tests.worker_id()) RETURNS SETOF pgflow.step_task_record LANGUAGE sql AS $$
  SELECT * FROM pgflow.start_tasks('stall', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE step_slug = 'slow'), worker)
$$;
-- Moves the task's clock back: it was queued and started `secs` seconds earlier.
CREATE FUNCTION pg_temp.age_task(slug text, secs int) RETURNS void LANGUAGE sql AS $$
  UPDATE pgflow.step_tasks
  SET queued_at = queued_at - make_interval(secs => secs), started_at = started_at - make_interval(secs => secs)
  WHERE step_slug = slug;
$$;

SELECT is((SELECT count(*) FROM pg_temp.claim()), 1::bigint, 'first claim');
SELECT ok((SELECT pgflow_tests.visible_in('stall', message_id) BETWEEN 11 AND 12 FROM pgflow.step_tasks WHERE step_slug = 'slow'),
          'the message is hidden for timeout + 2 = 12 s (set_vt_batch really runs)');

-- Before the deadline the task is not handed out again, even if its message is read.
SELECT pgflow_tests.make_visible('stall');
SELECT pg_temp.age_task('slow', 11);
SELECT is((SELECT count(*) FROM pg_temp.claim('22222222-2222-2222-2222-222222222222')), 0::bigint,
          'a started task is not claimed again before started_at + timeout + 2 s');
SELECT results_eq($$SELECT attempts_count, last_worker_id FROM pgflow.step_tasks WHERE step_slug = 'slow'$$,
                  $$VALUES (1, pgflow_tests.worker_id())$$, 'it keeps its attempt and worker');

-- After the deadline it is claimed again as a new attempt.
SELECT pg_temp.age_task('slow', 2);
SELECT results_eq($$SELECT step_slug, input, task_index FROM pg_temp.claim('22222222-2222-2222-2222-222222222222')$$,
                  $$VALUES ('slow'::text, '{"run": {}}'::jsonb, 0)$$, 'past the deadline the task is claimed again, with its input');
SELECT results_eq(
  $$SELECT status, attempts_count, last_worker_id, error_message, started_at > now() - interval '1 second'
    FROM pgflow.step_tasks WHERE step_slug = 'slow'$$,
  $$VALUES ('started'::text, 2, '22222222-2222-2222-2222-222222222222'::uuid,
            'Task timed out after 10 s: attempt 1 ran past its deadline on worker 11111111-1111-1111-1111-111111111111, which is still heartbeating'::text,
            true)$$,
  'as attempt 2 by the new worker, recording the timeout of attempt 1 on a worker still alive');
SELECT ok((SELECT pgflow_tests.visible_in('stall', message_id) BETWEEN 11 AND 12 FROM pgflow.step_tasks WHERE step_slug = 'slow'),
          'its message is hidden again for timeout + 2 s');
SELECT is((SELECT status FROM pgflow.runs), 'started', 'the run goes on');
SELECT is((SELECT count(*) FROM pg_temp.claim()), 0::bigint, 'the re-claimed task is not claimed a third time at once');

-- With no attempt left, a timed-out task fails like a handler failure.
SELECT pgflow_tests.make_visible('stall');
SELECT pg_temp.age_task('slow', 13);
SELECT is((SELECT count(*) FROM pg_temp.claim()), 0::bigint, 'a timed-out task without attempts left is not claimed');
SELECT results_eq($$SELECT status, attempts_count, error_message, failed_at IS NOT NULL FROM pgflow.step_tasks WHERE step_slug = 'slow'$$,
                  $$VALUES ('failed'::text, 2, 'Task timed out after 10 s: attempt 2 ran past its deadline on worker 22222222-2222-2222-2222-222222222222, which is still heartbeating'::text, true)$$,
                  'it fails with a message saying it timed out');
SELECT results_eq($$SELECT status, error_message FROM pgflow.step_states WHERE step_slug = 'slow'$$,
                  $$VALUES ('failed'::text, 'Task timed out after 10 s: attempt 2 ran past its deadline on worker 22222222-2222-2222-2222-222222222222, which is still heartbeating'::text)$$,
                  'its step fails');
SELECT is((SELECT status FROM pgflow.runs), 'failed', 'and the run fails');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('stall')), 0::bigint, 'the run''s messages are archived');
SELECT results_eq($$SELECT status, output FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000c1', 'slow', 0, '"too late"')$$,
                  $$VALUES ('failed'::text, NULL::jsonb)$$, 'a late completion by the dead worker changes nothing');

-- A step's own timeout is used for both the deadline and the message.
SELECT pgflow.create_flow('stall2', timeout => 10);
SELECT pgflow.add_step('stall2', 'custom', timeout => 30);
SELECT pgflow.start_flow('stall2', '{}', '00000000-0000-0000-0000-0000000000c2');
SELECT pgflow.start_tasks('stall2', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'stall2'),
                          pgflow_tests.ensure_worker('stall2'));
SELECT ok((SELECT pgflow_tests.visible_in('stall2', message_id) BETWEEN 31 AND 32 FROM pgflow.step_tasks WHERE flow_slug = 'stall2'),
          'a step timeout of 30 s hides the message for 32 s');
SELECT pgflow_tests.make_visible('stall2');
UPDATE pgflow.step_tasks SET queued_at = queued_at - interval '20 seconds', started_at = started_at - interval '20 seconds'
WHERE flow_slug = 'stall2';
SELECT is((SELECT count(*) FROM pgflow.start_tasks('stall2', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'stall2'),
                                                   pgflow_tests.worker_id())),
          0::bigint, '20 s after its start a step with timeout 30 is not yet stalled');
UPDATE pgflow.step_tasks SET queued_at = queued_at - interval '13 seconds', started_at = started_at - interval '13 seconds'
WHERE flow_slug = 'stall2';
SELECT is((SELECT count(*) FROM pgflow.start_tasks('stall2', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'stall2'),
                                                   pgflow_tests.worker_id())),
          1::bigint, '33 s after its start it is');
SELECT is((SELECT error_message FROM pgflow.step_tasks WHERE flow_slug = 'stall2'),
          'Task timed out after 30 s: attempt 1 ran past its deadline on worker 11111111-1111-1111-1111-111111111111, which is still heartbeating',
          'the message names the step''s timeout');

-- A re-claimed task that then succeeds completes normally.
SELECT results_eq($$SELECT status, attempts_count FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000c2', 'custom', 0, '"fine"')$$,
                  $$VALUES ('completed'::text, 2)$$, 'the second attempt completes the task');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000c2'), 'completed', 'and the run');

-- A worker that crashed (no heartbeat for over 10 s) or stopped is named as such.
SELECT pgflow.create_flow('stall3', max_attempts => 3, timeout => 5);
SELECT pgflow.add_step('stall3', 'slow');
SELECT pgflow_tests.ensure_worker('stall3', '33333333-3333-3333-3333-333333333333');
SELECT pgflow.start_flow('stall3', '{}', '00000000-0000-0000-0000-0000000000c3');
CREATE FUNCTION pg_temp.claim3(worker uuid) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.start_tasks('stall3', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'stall3'), worker)
$$;
-- Makes the task of stall3 stalled: started 8 s earlier (past 5 + 2), its message visible.
CREATE FUNCTION pg_temp.stall3() RETURNS void LANGUAGE sql AS $$
  UPDATE pgflow.step_tasks
  SET queued_at = queued_at - interval '8 seconds', started_at = started_at - interval '8 seconds'
  WHERE flow_slug = 'stall3';
  SELECT pgflow_tests.make_visible('stall3');
$$;
CREATE FUNCTION pg_temp.error3() RETURNS text LANGUAGE sql AS $$
  SELECT error_message FROM pgflow.step_tasks WHERE flow_slug = 'stall3'
$$;
SELECT is(pg_temp.claim3('33333333-3333-3333-3333-333333333333'), 1::bigint, 'attempt 1 claimed by worker 3');
SELECT pg_temp.stall3();
UPDATE pgflow.workers SET last_heartbeat_at = clock_timestamp() - interval '25 seconds'
WHERE worker_id = '33333333-3333-3333-3333-333333333333';
SELECT is(pg_temp.claim3(pgflow_tests.worker_id()), 1::bigint, 'attempt 2 claimed by worker 1');
SELECT alike(pg_temp.error3(),
             'Task timed out after 5 s: attempt 1''s worker 33333333-3333-3333-3333-333333333333 has sent no heartbeat for 2_ s: it crashed (a handler may have killed its process) or lost the database',
             'a worker silent for over 10 s is reported as crashed');
SELECT pg_temp.stall3();
UPDATE pgflow.workers SET deprecated_at = clock_timestamp() - interval '3 seconds'
WHERE worker_id = pgflow_tests.worker_id();
SELECT is(pg_temp.claim3('33333333-3333-3333-3333-333333333333'), 1::bigint, 'attempt 3 claimed by worker 3');
SELECT alike(pg_temp.error3(),
             'Task timed out after 5 s: attempt 2''s worker 11111111-1111-1111-1111-111111111111 stopped _ s ago without reporting it',
             'a stopped (deprecated) worker is reported as stopped');
SELECT pg_temp.stall3();
SELECT is(pg_temp.claim3('22222222-2222-2222-2222-222222222222'), 0::bigint, 'no attempt left: not claimed');
SELECT results_eq($$SELECT status, error_message FROM pgflow.step_tasks WHERE flow_slug = 'stall3'$$,
                  $$VALUES ('failed'::text, 'Task timed out after 5 s: attempt 3''s worker 33333333-3333-3333-3333-333333333333 has sent no heartbeat for 25 s: it crashed (a handler may have killed its process) or lost the database'::text)$$,
                  'the last attempt''s failure says its worker crashed');

SELECT * FROM finish();
