-- Run events through realtime.send (a stand-in schema realtime, as on Supabase): event names,
-- topic, private flag, payload keys and values, and their order for every kind of change.
\ir fixtures/realtime_stand_in.sql
SELECT plan(22);

CREATE FUNCTION pg_temp.events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages WHERE topic = 'pgflow:run:' || run
$$;
CREATE FUNCTION pg_temp.payload(run uuid, ev text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT payload FROM realtime.messages WHERE topic = 'pgflow:run:' || run AND event = ev ORDER BY id DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.keys(j jsonb) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(j) k
$$;

SELECT pgflow.create_flow('ev');
SELECT pgflow.add_step('ev', 'first');
SELECT pgflow.add_step('ev', 'empty_map', ARRAY['first'], step_type => 'map');
SELECT pgflow.add_step('ev', 'after_empty', ARRAY['empty_map']);
SELECT pgflow.add_step('ev', 'items', ARRAY['first'], step_type => 'map');
SELECT pgflow_tests.ensure_worker('ev');

-- start_flow
SELECT pgflow.start_flow('ev', '{"in": 1}', '00000000-0000-0000-0000-000000000e01');
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e01'), ARRAY['run:started', 'step:first:started'],
          'start_flow broadcasts run:started then step:<slug>:started');
SELECT results_eq($$SELECT DISTINCT topic, private, extension FROM realtime.messages$$,
                  $$VALUES ('pgflow:run:00000000-0000-0000-0000-000000000e01'::text, false, 'broadcast'::text)$$,
                  'events go to topic pgflow:run:<run_id>, private = false');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'run:started')
            - 'started_at',
          '{"event_type": "run:started", "run_id": "00000000-0000-0000-0000-000000000e01", "flow_slug": "ev",
            "input": {"in": 1}, "status": "started", "remaining_steps": 4}'::jsonb,
          'run:started payload');
SELECT ok(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'run:started') ? 'started_at', 'run:started has started_at');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'step:first:started') - 'started_at',
          '{"event_type": "step:started", "run_id": "00000000-0000-0000-0000-000000000e01", "step_slug": "first",
            "status": "started", "remaining_tasks": 1, "remaining_deps": 0}'::jsonb,
          'step:started payload');

-- complete_task: the parent's completion, then cascaded taskless children, then started steps.
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '[]') FROM pgflow_tests.read_and_start('ev') t;
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e01'),
          ARRAY['run:started', 'step:first:started', 'step:first:completed', 'step:empty_map:completed',
                'step:items:completed', 'step:after_empty:started'],
          'complete_task: step:completed, then the taskless children (in step order), then step:started');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'step:first:completed') - 'completed_at',
          '{"event_type": "step:completed", "run_id": "00000000-0000-0000-0000-000000000e01", "step_slug": "first",
            "status": "completed", "output": []}'::jsonb,
          'task-driven step:completed payload carries the output');
SELECT is(pg_temp.keys(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'step:empty_map:completed')),
          ARRAY['completed_at', 'event_type', 'output', 'remaining_deps', 'remaining_tasks', 'run_id', 'started_at', 'status', 'step_slug'],
          'taskless step:completed payload keys');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'step:empty_map:completed') - 'completed_at' - 'started_at',
          '{"event_type": "step:completed", "run_id": "00000000-0000-0000-0000-000000000e01", "step_slug": "empty_map",
            "status": "completed", "remaining_tasks": 0, "remaining_deps": 0, "output": []}'::jsonb,
          'taskless step:completed has output [] and zero counters');

SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '{"done": true}') FROM pgflow_tests.read_and_start('ev') t;
SELECT is((pg_temp.events('00000000-0000-0000-0000-000000000e01'))[7:8], ARRAY['step:after_empty:completed', 'run:completed'],
          'the last completion broadcasts step:completed then run:completed');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e01', 'run:completed') - 'completed_at',
          '{"event_type": "run:completed", "run_id": "00000000-0000-0000-0000-000000000e01", "flow_slug": "ev",
            "status": "completed", "output": {"items": [], "after_empty": {"done": true}}}'::jsonb,
          'run:completed payload carries the run output');

-- Map step completion: the aggregated output in task_index order.
SELECT pgflow.create_flow('evmap');
SELECT pgflow.add_step('evmap', 'm', step_type => 'map');
SELECT pgflow.start_flow('evmap', '[1, 2]', '00000000-0000-0000-0000-000000000e02');
SELECT pgflow.start_tasks('evmap', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'evmap'), pgflow_tests.ensure_worker('evmap'));
SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000e02', 'm', 1, '"b"');
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e02'), ARRAY['run:started', 'step:m:started'],
          'completing one map task of several broadcasts nothing');
SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000e02', 'm', 0, '"a"');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e02', 'step:m:completed')->'output', '["a", "b"]'::jsonb,
          'a map step:completed carries the outputs ordered by task_index');

-- fail_task: retries are silent; the final failure broadcasts step:failed then run:failed.
SELECT pgflow.create_flow('evfail', max_attempts => 2);
SELECT pgflow.add_step('evfail', 'shaky');
SELECT pgflow.start_flow('evfail', '{}', '00000000-0000-0000-0000-000000000e03');
SELECT pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'try again') FROM pgflow_tests.read_and_start('evfail') t;
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e03'), ARRAY['run:started', 'step:shaky:started'],
          'a re-queued task broadcasts nothing');
SELECT pgflow_tests.make_visible('evfail');
SELECT pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'gave up') FROM pgflow_tests.read_and_start('evfail') t;
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e03'),
          ARRAY['run:started', 'step:shaky:started', 'step:shaky:failed', 'run:failed'],
          'a permanent failure broadcasts step:failed then run:failed');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e03', 'step:shaky:failed') - 'failed_at',
          '{"event_type": "step:failed", "run_id": "00000000-0000-0000-0000-000000000e03", "step_slug": "shaky",
            "status": "failed", "error_message": "gave up"}'::jsonb, 'step:failed payload');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e03', 'run:failed') - 'failed_at',
          '{"event_type": "run:failed", "run_id": "00000000-0000-0000-0000-000000000e03", "flow_slug": "evfail",
            "status": "failed", "error_message": "gave up"}'::jsonb, 'run:failed payload carries the error message');
SELECT ok(pg_temp.payload('00000000-0000-0000-0000-000000000e03', 'run:failed') ? 'failed_at', 'run:failed has failed_at');

-- Type violation: run:failed (without error_message) then step:failed.
SELECT pgflow.create_flow('evtype');
SELECT pgflow.add_step('evtype', 'p');
SELECT pgflow.add_step('evtype', 'c', ARRAY['p'], step_type => 'map');
SELECT pgflow.start_flow('evtype', '{}', '00000000-0000-0000-0000-000000000e04');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"nope"') FROM pgflow_tests.read_and_start('evtype') t;
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e04'), ARRAY['run:started', 'step:p:started', 'run:failed', 'step:p:failed'],
          'a type violation broadcasts run:failed then step:failed');
SELECT is(pg_temp.keys(pg_temp.payload('00000000-0000-0000-0000-000000000e04', 'run:failed')),
          ARRAY['event_type', 'failed_at', 'flow_slug', 'run_id', 'status'], 'its run:failed has no error_message');
SELECT is(pg_temp.payload('00000000-0000-0000-0000-000000000e04', 'step:p:failed')->>'error_message',
          '[TYPE_VIOLATION] Map step c expects array input but dependency p produced string', 'its step:failed names the violation');

-- Zero-step flow: run:started then run:completed with output null.
SELECT pgflow.create_flow('evnone');
SELECT pgflow.start_flow('evnone', '{}', '00000000-0000-0000-0000-000000000e05');
SELECT is(pg_temp.events('00000000-0000-0000-0000-000000000e05'), ARRAY['run:started', 'run:completed'],
          'a flow without steps broadcasts run:started and run:completed');

SELECT * FROM finish();
