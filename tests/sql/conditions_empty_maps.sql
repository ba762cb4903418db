-- Conditions of steps released by an empty map (decision 9; upstream quirk 1.7.1 fixed): a map
-- that completes on its own with [] releases its dependents, and their conditions are evaluated
-- before anything starts, at start_flow, in complete_task, and after a skip emptied a map.
-- Upstream pgflow starts such a step without evaluating it.
\ir fixtures/realtime_stand_in.sql
SELECT plan(15);

CREATE FUNCTION pg_temp.states(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(ss.step_slug || ':' || ss.status || coalesce(':' || ss.skip_reason, '') ORDER BY s.step_index)
  FROM pgflow.step_states AS ss JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
  WHERE ss.run_id = run
$$;

-- Root map over [] at start_flow (the quirk's own example).
SELECT pgflow.create_flow('empty_root');
SELECT pgflow.add_step('empty_root', 'm', step_type => 'map');
SELECT pgflow.add_step('empty_root', 'z', ARRAY['m'], required_input_pattern => '{"m": [1]}');
SELECT pgflow.add_step('empty_root', 'w', ARRAY['m'], required_input_pattern => '{"m": []}');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.start_flow('empty_root', '[]', '00000000-0000-0000-0000-0000000e0001')$$,
                  $$VALUES ('started'::text, 1)$$, 'start_flow over []: the run goes on with one step left');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000e0001'), ARRAY['m:completed', 'z:skipped:condition_unmet', 'w:started'],
          'z, released by the empty map, is evaluated against {"m": []} and skipped; w''s pattern matches and it starts');
SELECT is((SELECT array_agg(step_slug) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000e0001'),
          ARRAY['w'], 'no task for the skipped step');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000e0001'),
          ARRAY['run:started', 'step:m:completed', 'step:z:skipped', 'step:w:started'],
          'events: the map completes, then z is skipped before anything starts');

-- The same with a fail-mode condition: the run fails inside start_flow.
SELECT pgflow.create_flow('empty_fail');
SELECT pgflow.add_step('empty_fail', 'm', step_type => 'map');
SELECT pgflow.add_step('empty_fail', 'z', ARRAY['m'], required_input_pattern => '{"m": [1]}', when_unmet => 'fail');
SELECT pgflow.add_step('empty_fail', 'other');
SELECT results_eq($$SELECT status, failed_at IS NOT NULL FROM pgflow.start_flow('empty_fail', '[]', '00000000-0000-0000-0000-0000000e0002')$$,
                  $$VALUES ('failed'::text, true)$$, 'a fail-mode condition after an empty map fails the run at start');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000e0002'), ARRAY['m:completed', 'z:failed', 'other:created'],
          'nothing else starts');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000e0002'), 0::bigint,
          'and no task exists');

-- Emptiness discovered in complete_task: a single step returns [] to a map.
SELECT pgflow.create_flow('empty_late');
SELECT pgflow.add_step('empty_late', 'list');
SELECT pgflow.add_step('empty_late', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('empty_late', 'report', ARRAY['each'], forbidden_input_pattern => '{"each": []}');
SELECT pgflow.add_step('empty_late', 'always', ARRAY['each']);
SELECT pgflow_tests.ensure_worker('empty_late');
SELECT pgflow.start_flow('empty_late', '{}', '00000000-0000-0000-0000-0000000e0003');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '[]') FROM pgflow_tests.read_and_start('empty_late') AS t;
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000e0003'),
          ARRAY['list:completed', 'each:completed', 'report:skipped:condition_unmet', 'always:started'],
          'complete_task: the map emptied by the output completes, its conditional dependent is evaluated and skipped');
SELECT results_eq($$SELECT remaining_steps, status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000e0003'$$,
                  $$VALUES (1, 'started'::text)$$, 'counters: one step left');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"done"') FROM pgflow_tests.read_and_start('empty_late') AS t;
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000e0003'$$,
                  $$VALUES ('completed'::text, '{"always": "done"}'::jsonb)$$, 'the run completes without the skipped leaf');

-- A skip empties a map, whose dependent is then evaluated (skip -> taskless map -> condition).
SELECT pgflow.create_flow('skip_chain');
SELECT pgflow.add_step('skip_chain', 'list', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('skip_chain', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('skip_chain', 'z', ARRAY['each'], required_input_pattern => '{"each": [1]}', when_unmet => 'skip-cascade');
SELECT pgflow.add_step('skip_chain', 'after_z', ARRAY['z']);
SELECT pgflow.add_step('skip_chain', 'w', ARRAY['each'], forbidden_input_pattern => '{"each": [1]}');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.start_flow('skip_chain', '{}', '00000000-0000-0000-0000-0000000e0004')$$,
                  $$VALUES ('started'::text, 1)$$, 'skip, then taskless map, then conditions: one step left');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000e0004'),
          ARRAY['list:skipped:condition_unmet', 'each:completed', 'z:skipped:condition_unmet',
                'after_z:skipped:dependency_skipped', 'w:started'],
          'the emptied map''s dependents are evaluated: z cascades, w starts');

-- A chain of empty maps with a condition at the end of each level.
SELECT pgflow.create_flow('levels');
SELECT pgflow.add_step('levels', 'm1', step_type => 'map');
SELECT pgflow.add_step('levels', 'm2', ARRAY['m1'], step_type => 'map');
SELECT pgflow.add_step('levels', 'c1', ARRAY['m1'], required_input_pattern => '{"m1": [1]}');
SELECT pgflow.add_step('levels', 'c2', ARRAY['m2'], required_input_pattern => '{"m2": []}');
SELECT results_eq($$SELECT status, output FROM pgflow.start_flow('levels', '[]', '00000000-0000-0000-0000-0000000e0005')$$,
                  $$VALUES ('started'::text, NULL::jsonb)$$, 'a chain of empty maps');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000e0005'),
          ARRAY['m1:completed', 'm2:completed', 'c1:skipped:condition_unmet', 'c2:started'],
          'each level''s dependents are evaluated as the wave releases them');
SELECT is((SELECT input FROM pgflow_tests.read_and_start('levels')), '{"run": [], "m2": []}'::jsonb,
          'the started one sees the empty map''s []');
