-- pgflow 0.14's guards around skipped steps and finished runs: a late completion of a step that
-- no longer runs changes nothing (its message is archived), claims take only tasks of started
-- steps of started runs, start_ready_steps leaves finished runs alone, and a type violation
-- returns the failed task row and fails the run whatever when_exhausted says.
\ir fixtures/realtime_stand_in.sql
SELECT plan(25);

CREATE FUNCTION pg_temp.event_count(run uuid) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM realtime.messages WHERE topic = 'pgflow:run:' || run
$$;
CREATE FUNCTION pg_temp.in_queue(flow text, run uuid, step text, idx int) RETURNS boolean LANGUAGE sql AS $$
  SELECT EXISTS (SELECT 1 FROM pgflow_tests.queued_messages(flow) AS q
                 JOIN pgflow.step_tasks AS t ON t.message_id = q.msg_id
                 WHERE t.run_id = run AND t.step_slug = step AND t.task_index = idx)
$$;

SELECT pgflow.create_flow('late');
SELECT pgflow.add_step('late', 'm', step_type => 'map');
SELECT pgflow.add_step('late', 'after', ARRAY['m']);
SELECT pgflow_tests.ensure_worker('late');

-- 1. The step is skipped with its tasks (as _cascade_force_skip_steps does): a late completion of
--    a skipped task returns it as it is.
SELECT pgflow.start_flow('late', '[1, 2, 3]', '00000000-0000-0000-0000-0000000a0001');
SELECT count(*) FROM pgflow_tests.read_and_start('late', 30, 10);
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000a0001', 'm', 0, '"one"');
SELECT pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000a0001', 'm', 'handler_failed');
SELECT set_config('t.events', pg_temp.event_count('00000000-0000-0000-0000-0000000a0001')::text, false);
SELECT results_eq($$SELECT status, output, completed_at FROM pgflow.complete_task('00000000-0000-0000-0000-0000000a0001', 'm', 1, '"two"')$$,
                  $$VALUES ('skipped'::text, NULL::jsonb, NULL::timestamptz)$$,
                  'late_complete_after_skip_does_not_mutate_step_or_run: the skipped task is returned unchanged');
SELECT results_eq($$SELECT ss.status, ss.remaining_tasks, r.remaining_steps, r.status
                    FROM pgflow.step_states AS ss JOIN pgflow.runs AS r ON r.run_id = ss.run_id
                    WHERE ss.run_id = '00000000-0000-0000-0000-0000000a0001' AND ss.step_slug = 'm'$$,
                  $$VALUES ('skipped'::text, NULL::integer, 0, 'started'::text)$$, 'the step and the run are unchanged');
SELECT is(pg_temp.event_count('00000000-0000-0000-0000-0000000a0001'), current_setting('t.events')::bigint, 'no event');

-- 2. The step was skipped but a task of it is still active with its message in the queue (a
--    skipper that left a held task alone): the completion changes nothing and archives the message.
SELECT pgflow.start_flow('late', '[1, 2, 3]', '00000000-0000-0000-0000-0000000a0002');
SELECT count(*) FROM pgflow_tests.read_and_start('late', 30, 10);
UPDATE pgflow.step_states SET status = 'skipped', skip_reason = 'handler_failed', skipped_at = now(), remaining_tasks = NULL
WHERE run_id = '00000000-0000-0000-0000-0000000a0002' AND step_slug = 'm';
SELECT pgflow_tests.make_visible('late');
SELECT set_config('t.events', pg_temp.event_count('00000000-0000-0000-0000-0000000a0002')::text, false);
SELECT ok(pg_temp.in_queue('late', '00000000-0000-0000-0000-0000000a0002', 'm', 0), 'the task''s message is in the queue');
SELECT results_eq($$SELECT status, output, completed_at FROM pgflow.complete_task('00000000-0000-0000-0000-0000000a0002', 'm', 0, '"x"')$$,
                  $$VALUES ('skipped'::text, NULL::jsonb, NULL::timestamptz)$$,
                  'complete_task of a started task of a skipped step ends it skipped, like its siblings (no output kept)');
SELECT ok(NOT pg_temp.in_queue('late', '00000000-0000-0000-0000-0000000a0002', 'm', 0), 'and archives its message');
SELECT results_eq($$SELECT ss.status, ss.remaining_tasks, r.remaining_steps
                    FROM pgflow.step_states AS ss JOIN pgflow.runs AS r ON r.run_id = ss.run_id
                    WHERE ss.run_id = '00000000-0000-0000-0000-0000000a0002' AND ss.step_slug = 'm'$$,
                  $$VALUES ('skipped'::text, NULL::integer, 2)$$, 'no counter changes');
SELECT results_eq($$SELECT task_index, status, output FROM pgflow.complete_tasks(
                      ARRAY['00000000-0000-0000-0000-0000000a0002', '00000000-0000-0000-0000-0000000a0002']::uuid[],
                      ARRAY['m', 'm'], ARRAY[1, 2], ARRAY['"y"', '"z"']::jsonb[])$$,
                  $$VALUES (1, 'skipped'::text, NULL::jsonb), (2, 'skipped', NULL)$$,
                  'complete_tasks: the same for a batch of them');
SELECT ok(NOT pg_temp.in_queue('late', '00000000-0000-0000-0000-0000000a0002', 'm', 2), 'their messages are archived');
SELECT is(pg_temp.event_count('00000000-0000-0000-0000-0000000a0002'), current_setting('t.events')::bigint, 'no event');

-- 3. Claims: a queued task of a skipped step is not started, by start_tasks or read_and_start_tasks.
SELECT pgflow.start_flow('late', '[1, 2]', '00000000-0000-0000-0000-0000000a0003');
UPDATE pgflow.step_states SET status = 'skipped', skip_reason = 'condition_unmet', skipped_at = now(), remaining_tasks = NULL
WHERE run_id = '00000000-0000-0000-0000-0000000a0003' AND step_slug = 'm';
SELECT is((SELECT count(*) FROM pgflow.start_tasks('late', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                                 WHERE run_id = '00000000-0000-0000-0000-0000000a0003'),
                                                   pgflow_tests.worker_id())), 0::bigint,
          'does_not_start_tasks_for_skipped_step: start_tasks claims nothing');
SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('late', 30, 10, pgflow_tests.worker_id())), 0::bigint,
          'read_and_start_tasks finds nothing left: the claim archived the two messages');
SELECT results_eq($$SELECT status, attempts_count FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000a0003'$$,
                  $$VALUES ('skipped'::text, 0), ('skipped', 0)$$, 'no attempt is counted; the tasks end skipped like their step');

-- 4. Claims on a run that is not started (here: completed while a task was queued) take nothing.
SELECT pgflow.create_flow('finished');
SELECT pgflow.add_step('finished', 'a');
SELECT pgflow.add_step('finished', 'b', ARRAY['a']);
SELECT pgflow.start_flow('finished', '{}', '00000000-0000-0000-0000-0000000a0004');
UPDATE pgflow.runs SET status = 'completed', completed_at = now() WHERE run_id = '00000000-0000-0000-0000-0000000a0004';
SELECT is((SELECT count(*) FROM pgflow.start_tasks('finished', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                                     WHERE run_id = '00000000-0000-0000-0000-0000000a0004'),
                                                   pgflow_tests.worker_id())), 0::bigint,
          'start_tasks claims nothing of a completed run');
-- start_ready_steps leaves a completed run alone, even with a ready step.
UPDATE pgflow.step_states SET remaining_deps = 0 WHERE run_id = '00000000-0000-0000-0000-0000000a0004' AND step_slug = 'b';
SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-0000000a0004');
SELECT results_eq($$SELECT status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000a0004' AND step_slug = 'b'$$,
                  $$VALUES ('created'::text)$$, 'start_ready_steps starts nothing on a completed run');
UPDATE pgflow.runs SET status = 'failed', completed_at = NULL, failed_at = now() WHERE run_id = '00000000-0000-0000-0000-0000000a0004';
SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-0000000a0004');
SELECT results_eq($$SELECT status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000a0004' AND step_slug = 'b'$$,
                  $$VALUES ('created'::text)$$, 'nor on a failed run');

-- 5. A type violation returns the failed task row and fails the run even with when_exhausted skip.
SELECT pgflow.create_flow('typed');
SELECT pgflow.add_step('typed', 'producer', when_exhausted => 'skip');
SELECT pgflow.add_step('typed', 'sibling');
SELECT pgflow.add_step('typed', 'consumer', ARRAY['producer'], step_type => 'map');
SELECT pgflow.start_flow('typed', '{}', '00000000-0000-0000-0000-0000000a0005');
SELECT count(*) FROM pgflow_tests.read_and_start('typed', 30, 10);
SELECT results_eq($$SELECT step_slug, status, error_message, output FROM pgflow.complete_task('00000000-0000-0000-0000-0000000a0005', 'producer', 0, '{"not": "array"}')$$,
                  $$VALUES ('producer'::text, 'failed'::text, '[TYPE_VIOLATION] Produced object instead of array'::text, '{"not": "array"}'::jsonb)$$,
                  'complete_task_type_violation_returns_failed_row');
SELECT results_eq($$SELECT r.status, ss.status, ss.skip_reason FROM pgflow.runs AS r
                    JOIN pgflow.step_states AS ss ON ss.run_id = r.run_id AND ss.step_slug = 'producer'
                    WHERE r.run_id = '00000000-0000-0000-0000-0000000a0005'$$,
                  $$VALUES ('failed'::text, 'failed'::text, NULL::text)$$,
                  'type_violation_always_hard_fails: the run and step fail although when_exhausted is skip');
SELECT results_eq($$SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000a0005' AND step_slug = 'sibling'$$,
                  $$VALUES ('cancelled'::text)$$, 'the other active task is cancelled');
SELECT pgflow.start_flow('typed', '{}', '00000000-0000-0000-0000-0000000a0006');
SELECT count(*) FROM pgflow_tests.read_and_start('typed', 30, 10);
SELECT results_eq($$SELECT step_slug, status FROM pgflow.complete_tasks(ARRAY['00000000-0000-0000-0000-0000000a0006']::uuid[],
                                                                         ARRAY['producer'], ARRAY[0], ARRAY['7']::jsonb[])$$,
                  $$VALUES ('producer'::text, 'failed'::text)$$, 'complete_tasks returns the failed row as well');

-- 6. Run output: only completed leaves; NULL when every leaf was skipped.
SELECT pgflow.create_flow('leaves');
SELECT pgflow.add_step('leaves', 'kept');
SELECT pgflow.add_step('leaves', 'dropped', required_input_pattern => '{"keep": true}');
SELECT pgflow.add_step('leaves', 'also_dropped', ARRAY['kept'], required_input_pattern => '{"kept": 1}');
SELECT pgflow.start_flow('leaves', '{}', '00000000-0000-0000-0000-0000000a0007');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '2') FROM pgflow_tests.read_and_start('leaves') AS t;
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000a0007'$$,
                  $$VALUES ('completed'::text, NULL::jsonb)$$, 'every leaf skipped: the run completes with output NULL');
SELECT is((SELECT payload FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000a0007' AND event = 'run:completed')
            ->'output', 'null'::jsonb, 'and run:completed says "output": null');
SELECT pgflow.start_flow('leaves', '{"keep": true}', '00000000-0000-0000-0000-0000000a0008');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1') FROM pgflow_tests.read_and_start('leaves', 30, 10) AS t;
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '3') FROM pgflow_tests.read_and_start('leaves', 30, 10) AS t;
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000a0008'$$,
                  $$VALUES ('completed'::text, '{"dropped": 1, "also_dropped": 3}'::jsonb)$$,
                  'all leaves completed: all in the output');

-- 7. start_flow_with_states and start_flow_idempotent go through start_flow: conditions included.
SELECT pgflow.create_flow('wrapped');
SELECT pgflow.add_step('wrapped', 'gate', required_input_pattern => '{"go": true}', when_unmet => 'fail');
SELECT pgflow.add_step('wrapped', 'maybe', forbidden_input_pattern => '{"go": true}');
SELECT is((SELECT s->'run'->>'status' FROM pgflow.start_flow_with_states('wrapped', '{}') AS s), 'failed',
          'start_flow_with_states returns the run failed by a condition');
SELECT is((SELECT jsonb_agg(jsonb_build_object('slug', st->>'step_slug', 'status', st->>'status', 'reason', st->'skip_reason',
                                               'skipped', st->'skipped_at' <> 'null') ORDER BY st->>'step_slug')
           FROM jsonb_array_elements(pgflow.get_run_with_states(
                  (SELECT run_id FROM pgflow_cpp.start_flow_idempotent('wrapped', '{"go": true}', 'key-1')))->'steps') AS st),
          '[{"slug": "gate", "status": "started", "reason": null, "skipped": false},
            {"slug": "maybe", "status": "skipped", "reason": "condition_unmet", "skipped": true}]'::jsonb,
          'start_flow_idempotent evaluates conditions; get_run_with_states shows skip_reason and skipped_at');
