-- Signal steps (issue 15): registration (set_step_kind, json_matches_shape), a waiting task with no
-- message that pgflow_cpp.signal completes, every refusal, timeouts (retry opens a new wait;
-- exhausted: fail or skip per when_exhausted), next_wake_at, run_waits and the events.
\ir fixtures/realtime_stand_in.sql
SELECT plan(59);

-- json_matches_shape
SELECT is(pgflow_cpp.json_matches_shape('{"approved": true, "by": "ann"}',
          '{"type":"object","properties":{"approved":{"type":"boolean"},"by":{"type":"string"}},"required":["approved","by"]}'),
          NULL, 'a value of the shape matches');
SELECT is(pgflow_cpp.json_matches_shape('{"approved": "yes", "by": "ann"}',
          '{"type":"object","properties":{"approved":{"type":"boolean"},"by":{"type":"string"}},"required":["approved","by"]}'),
          '$.approved: expected boolean, got string', 'the first mismatching path is named');
SELECT is(pgflow_cpp.json_matches_shape('{"approved": true}',
          '{"type":"object","properties":{"approved":{"type":"boolean"},"by":{"type":"string"}},"required":["approved","by"]}'),
          '$.by: required, missing', 'a missing required member is named');
SELECT is(pgflow_cpp.json_matches_shape('{"a": null}', '{"type":"object","properties":{"a":{"type":"string","nullable":true}}}'),
          NULL, 'nullable accepts null');
SELECT is(pgflow_cpp.json_matches_shape('{"xs": [1, 2.5]}', '{"type":"object","properties":{"xs":{"type":"array","items":{"type":"integer"}}}}'),
          '$.xs[1]: expected integer, got a number with a fraction', 'array items are checked, integers are whole');
SELECT is(pgflow_cpp.json_matches_shape('[1, 2]', NULL), NULL, 'no shape: anything');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('1', '{"type":"decimal"}')$$, '22023', NULL, 'an unknown type is an error');

-- Registration
SELECT pgflow.create_flow('sig', max_attempts => 1);
SELECT pgflow.add_step('sig', 'draft');
SELECT pgflow.add_step('sig', 'approval', ARRAY['draft']);
SELECT pgflow.add_step('sig', 'publish', ARRAY['approval']);
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'approval', 'signal', 3600,
  '{"type":"object","properties":{"approved":{"type":"boolean"}},"required":["approved"]}'::jsonb, NULL)$$, 'set_step_kind declares a signal step');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'approval', 'signal', 600,
  '{"type":"object","properties":{"approved":{"type":"boolean"}},"required":["approved"]}'::jsonb, NULL)$$, 'again, with another timeout');
SELECT is((SELECT signal_timeout FROM pgflow_cpp.step_kinds WHERE flow_slug = 'sig' AND step_slug = 'approval'), 600,
          'the timeout changed in place');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'approval', 'sleep')$$, '22023',
                 'Step "approval" of flow "sig" is registered as signal but is now declared as sleep', 'another kind is refused, naming both');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'nope', 'signal')$$, 'P0002', NULL, 'an unknown step is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'publish', 'subflow', child_flow_slug => 'ghost')$$, 'P0002', NULL,
                 'an unknown child flow is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'publish', 'sleep', 10)$$, '22023', NULL, 'a timeout for a sleep is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('sig', 'publish', 'wait')$$, '22023', NULL, 'an unknown kind is refused');

-- The signal step waits when ready: queued, no message, a waits row, step:waiting.
SELECT pgflow_tests.ensure_worker('sig');
SELECT pgflow.start_flow('sig', '{"doc": 1}', '00000000-0000-0000-0000-0000000051a1');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'approval', '{"approved": true}')$$, '55000',
                 'Signal "approval" of run 00000000-0000-0000-0000-0000000051a1 is not waiting: the step is not ready yet (it waits for its dependencies)',
                 'a step not yet ready is refused');
SELECT is(pgflow_tests.run_visible_tasks('sig'), 1, 'draft runs');
SELECT results_eq($$SELECT status, message_id IS NULL, attempts_count FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-0000000051a1' AND step_slug = 'approval'$$,
                  $$VALUES ('queued'::text, true, 0)$$, 'the signal task is queued with no message');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('sig')), 0::bigint, 'nothing is in the queue for it');
SELECT results_eq($$SELECT step_slug, task_index, kind, wake_at - waiting_since, child_run_id
                    FROM pgflow_cpp.run_waits('00000000-0000-0000-0000-0000000051a1')$$,
                  $$VALUES ('approval'::text, 0, 'signal'::text, interval '600 seconds', NULL::uuid)$$, 'run_waits shows it, since when and its timeout');
SELECT is(pgflow_cpp.next_wake_at(), (SELECT wake_at FROM pgflow_cpp.waits), 'next_wake_at is the timeout');
SELECT results_eq($$SELECT payload->>'step_slug', payload->>'kind', payload->>'status', (payload->>'task_index')::int,
                           payload ? 'waiting_since' FROM realtime.messages WHERE event = 'step:approval:waiting'$$,
                  $$VALUES ('approval'::text, 'signal'::text, 'started'::text, 0, true)$$, 'step:waiting was sent');
SELECT is(pgflow_tests.run_visible_tasks('sig'), 0, 'no worker can claim the waiting task');
SELECT is(pgflow_cpp.wake_due_waits(), 0, 'nothing is due');

-- Refusals change nothing.
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'approval', '{"approved": "yes"}')$$, '22023',
                 'Signal "approval" of run 00000000-0000-0000-0000-0000000051a1 has the wrong shape: $.approved: expected boolean, got string',
                 'a value of the wrong shape is refused');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'publish', '{}')$$, '22023',
                 'Step "publish" of flow "sig" is not a signal step (it is a handler step)', 'a handler step takes no signal');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'ghost', '{}')$$, 'P0002', NULL, 'an unknown step');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051ff', 'approval', '{}')$$, 'P0002', NULL, 'an unknown run');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'approval', '{"approved": true}', 3)$$, 'P0002', NULL,
                 'an unknown task index');
SELECT results_eq($$SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000051a1' AND step_slug = 'approval'$$,
                  $$VALUES ('queued'::text)$$, 'the refusals changed nothing');

-- The signal completes the step; the run goes on.
SELECT lives_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'approval', '{"approved": true, "by": "ann"}')$$,
                'a signal of the right shape');
SELECT results_eq($$SELECT status, output, attempts_count FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-0000000051a1' AND step_slug = 'approval'$$,
                  $$VALUES ('completed'::text, '{"approved": true, "by": "ann"}'::jsonb, 1)$$, 'the task completed with the value');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits), 0::bigint, 'the wait is gone');
SELECT is((SELECT input->'approval' FROM pgflow_tests.read_and_start('sig', 30, 10)), '{"approved": true, "by": "ann"}'::jsonb,
          'the dependent starts with the value as its input');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'approval', '{"approved": false}')$$, '55000',
                 NULL, 'signalling twice is refused');
SELECT ok((SELECT count(*) = 1 FROM realtime.messages WHERE event = 'step:approval:completed'), 'step:approval:completed was sent');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000051a1', 'publish', 0, '"done"');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000051a1'), 'completed', 'the run completes');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a1', 'approval', '{"approved": false}')$$, '55000',
                 'Signal "approval" of run 00000000-0000-0000-0000-0000000051a1 is not waiting: the run is completed', 'a finished run is refused');

SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000051a1'),
          ARRAY['run:started', 'step:draft:started', 'step:draft:completed', 'step:approval:started', 'step:approval:waiting',
                'step:approval:completed', 'step:publish:started', 'step:publish:completed', 'run:completed'],
          'the run''s events: step:waiting after step:started, then the usual ones');

-- A cancelled run is refused too.
SELECT pgflow.start_flow('sig', '{}', '00000000-0000-0000-0000-0000000051a2');
SELECT pgflow_tests.run_visible_tasks('sig');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000051a2');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051a2', 'approval', '{"approved": true}')$$, '55000',
                 'Signal "approval" of run 00000000-0000-0000-0000-0000000051a2 is not waiting: the run is cancelled', 'a cancelled run is refused');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000051a2' AND step_slug = 'approval'),
          'cancelled', 'its waiting task was cancelled');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_waits('00000000-0000-0000-0000-0000000051a2')), 0::bigint, 'and waits no more');

-- Timeouts: with attempts left a new wait opens; exhausted, the run fails.
SELECT pgflow.create_flow('sigt');
SELECT pgflow.add_step('sigt', 'ok', max_attempts => 2, base_delay => 0);
SELECT pgflow_cpp.set_step_kind('sigt', 'ok', 'signal', 60);
SELECT pgflow.start_flow('sigt', '{}', '00000000-0000-0000-0000-0000000051b1');
UPDATE pgflow_cpp.waits SET wake_at = now() - interval '1 second' WHERE run_id = '00000000-0000-0000-0000-0000000051b1';
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the timeout is handled');
SELECT results_eq($$SELECT status, attempts_count, error_message FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000051b1'$$,
                  $$VALUES ('queued'::text, 1, 'Signal "ok" was not received within 60 s'::text)$$, 'the attempt failed, the task waits again');
SELECT ok((SELECT wake_at > now() AND wake_at - waiting_since = interval '60 s' FROM pgflow_cpp.waits
           WHERE run_id = '00000000-0000-0000-0000-0000000051b1'), 'a new wait with a new timeout');
SELECT is((SELECT count(*) FROM realtime.messages WHERE event = 'step:ok:waiting'), 2::bigint, 'step:waiting again');
UPDATE pgflow_cpp.waits SET wake_at = now() - interval '1 second' WHERE run_id = '00000000-0000-0000-0000-0000000051b1';
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the second timeout');
SELECT results_eq($$SELECT r.status, s.status, s.error_message FROM pgflow.runs AS r JOIN pgflow.step_states AS s USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-0000000051b1'$$,
                  $$VALUES ('failed'::text, 'failed'::text, 'Signal "ok" was not received within 60 s'::text)$$, 'exhausted: the step and run fail');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits), 0::bigint, 'no wait is left (nor of the cancelled run)');
SELECT is(pgflow_cpp.next_wake_at(), NULL, 'next_wake_at: none');

-- when_exhausted skip: the run goes on without it.
SELECT pgflow.create_flow('sigs');
SELECT pgflow.add_step('sigs', 'maybe', max_attempts => 1, when_exhausted => 'skip');
SELECT pgflow.add_step('sigs', 'after', ARRAY['maybe']);
SELECT pgflow_cpp.set_step_kind('sigs', 'maybe', 'signal', 5);
SELECT pgflow.start_flow('sigs', '{}', '00000000-0000-0000-0000-0000000051c1');
UPDATE pgflow_cpp.waits SET wake_at = now() - interval '1 second' WHERE run_id = '00000000-0000-0000-0000-0000000051c1';
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the timeout is handled');
SELECT results_eq($$SELECT status, skip_reason FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000051c1' ORDER BY step_slug$$,
                  $$VALUES ('started'::text, NULL::text), ('skipped', 'handler_failed')$$, 'the step is skipped, its dependent starts');
SELECT throws_ok($$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051c1', 'maybe', '1')$$, '55000',
                 'Signal "maybe" of run 00000000-0000-0000-0000-0000000051c1 is not waiting: the step was skipped', 'a skipped step is refused');

-- wake_due_waits' argument
SELECT throws_ok($$SELECT pgflow_cpp.wake_due_waits(0)$$, '22023', NULL, 'max_count must be positive');
-- A NULL value of a step without a shape completes it with JSON null.
SELECT pgflow.start_flow('sigs', '{}', '00000000-0000-0000-0000-0000000051c2');
SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051c2', 'maybe', NULL);
SELECT is((SELECT output FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000051c2' AND step_slug = 'maybe'),
          'null'::jsonb, 'a NULL value is JSON null');

-- A map of signals: each task waits and is signalled by its index; a signal that a dependent map
-- needs as its array is a type violation like a handler's output.
SELECT pgflow.create_flow('sigm');
SELECT pgflow.add_step('sigm', 'votes', step_type => 'map');
SELECT pgflow.add_step('sigm', 'list');
SELECT pgflow.add_step('sigm', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow_cpp.set_step_kind('sigm', 'votes', 'signal');
SELECT pgflow_cpp.set_step_kind('sigm', 'list', 'signal');
SELECT pgflow.start_flow('sigm', '["a", "b"]', '00000000-0000-0000-0000-0000000051d1');
SELECT is((SELECT array_agg(task_index ORDER BY task_index) FROM pgflow_cpp.run_waits('00000000-0000-0000-0000-0000000051d1')
           WHERE step_slug = 'votes'), ARRAY[0, 1], 'a map of signals: one wait per task');
SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051d1', 'votes', '"no"', 1);
SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051d1', 'votes', '"yes"', 0);
SELECT is((SELECT output FROM pgflow.step_states AS ss CROSS JOIN LATERAL (SELECT pgflow_cpp.step_output(ss.run_id, ss.step_slug, 'map') AS output) AS o
           WHERE ss.run_id = '00000000-0000-0000-0000-0000000051d1' AND ss.step_slug = 'votes' AND ss.status = 'completed'),
          '["yes", "no"]'::jsonb, 'signalled by index, the step''s output is in task order');
SELECT pgflow_cpp.signal('00000000-0000-0000-0000-0000000051d1', 'list', '{"not": "an array"}');
SELECT results_eq($$SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000051d1'$$,
                  $$VALUES ('failed'::text)$$, 'a signal value that is no array for a dependent map fails the run (type violation)');
SELECT ok((SELECT error_message LIKE '[TYPE_VIOLATION]%' FROM pgflow.step_tasks
           WHERE run_id = '00000000-0000-0000-0000-0000000051d1' AND step_slug = 'list'), 'as a handler''s output would');
SELECT * FROM finish();
