-- Conditions on the batched paths: pgflow.complete_tasks releasing conditional steps (also from
-- the set-wise counted map tasks), and pgflow_cpp.read_and_start_tasks handing dependents of
-- skipped steps their input without the skipped key.
\ir fixtures/realtime_stand_in.sql
SELECT plan(10);

CREATE FUNCTION pg_temp.states(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(ss.step_slug || ':' || ss.status || coalesce(':' || ss.skip_reason, '') ORDER BY s.step_index)
  FROM pgflow.step_states AS ss JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
  WHERE ss.run_id = run
$$;
-- Completes, in one complete_tasks call, every started task of the run with outputs[task order].
CREATE FUNCTION pg_temp.complete_all(run uuid, outputs jsonb[]) RETURNS bigint LANGUAGE sql AS $$
  WITH t AS (SELECT t.*, row_number() OVER (ORDER BY t.step_slug, t.task_index) AS n
             FROM pgflow.step_tasks AS t WHERE t.run_id = run AND t.status = 'started')
  SELECT count(*) FROM pgflow.complete_tasks(
    ARRAY(SELECT t.run_id FROM t ORDER BY n), ARRAY(SELECT t.step_slug FROM t ORDER BY n),
    ARRAY(SELECT t.task_index FROM t ORDER BY n), ARRAY(SELECT outputs[n] FROM t ORDER BY n))
$$;

-- Two parents completed in one batch release a conditional child: evaluated once.
SELECT pgflow.create_flow('pair');
SELECT pgflow.add_step('pair', 'p1');
SELECT pgflow.add_step('pair', 'p2');
SELECT pgflow.add_step('pair', 'child', ARRAY['p1', 'p2'], required_input_pattern => '{"p1": {"ok": true}, "p2": {"ok": true}}');
SELECT pgflow_tests.ensure_worker('pair');
SELECT pgflow.start_flow('pair', '{}', '00000000-0000-0000-0000-0000000b0001');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('pair', 30, 10, pgflow_tests.worker_id());
SELECT is(pg_temp.complete_all('00000000-0000-0000-0000-0000000b0001', ARRAY['{"ok": true}', '{"ok": false}']::jsonb[]), 2::bigint,
          'complete_tasks returns both rows');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000b0001'), ARRAY['p1:completed', 'p2:completed', 'child:skipped:condition_unmet'],
          'the child is skipped once both parents completed');
SELECT results_eq($$SELECT status, output, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000b0001'$$,
                  $$VALUES ('completed'::text, NULL::jsonb, 0)$$, 'and the run completes');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000b0001'
             AND event NOT LIKE '%:started'),
          ARRAY['step:p1:completed', 'step:p2:completed', 'step:child:skipped', 'run:completed'], 'one step:child:skipped');

-- A map completed by one batch (its first tasks counted set-wise, the last through complete_task):
-- its dependent's condition sees the whole output array.
SELECT pgflow.create_flow('mapped');
SELECT pgflow.add_step('mapped', 'm', step_type => 'map');
SELECT pgflow.add_step('mapped', 'z', ARRAY['m'], required_input_pattern => '{"m": [20]}');
SELECT pgflow_tests.ensure_worker('mapped');
SELECT pgflow.start_flow('mapped', '[1, 2, 3]', '00000000-0000-0000-0000-0000000b0002');
SELECT pgflow.start_flow('mapped', '[1, 2, 3]', '00000000-0000-0000-0000-0000000b0003');
SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('mapped', 30, 10, pgflow_tests.worker_id());
SELECT pg_temp.complete_all('00000000-0000-0000-0000-0000000b0002', ARRAY['10', '20', '30']::jsonb[]);
SELECT pg_temp.complete_all('00000000-0000-0000-0000-0000000b0003', ARRAY['10', '21', '30']::jsonb[]);
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000b0002'), ARRAY['m:completed', 'z:started'],
          'the map''s output contains 20: z starts');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000b0003'), ARRAY['m:completed', 'z:skipped:condition_unmet'],
          'it does not: z is skipped');

-- read_and_start_tasks: a dependent of a skipped step and of a completed one.
SELECT pgflow.create_flow('mixed');
SELECT pgflow.add_step('mixed', 'maybe', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('mixed', 'surely');
SELECT pgflow.add_step('mixed', 'join', ARRAY['maybe', 'surely']);
SELECT pgflow.add_step('mixed', 'each', ARRAY['maybe'], step_type => 'map');
SELECT pgflow.add_step('mixed', 'after_each', ARRAY['each']);
SELECT pgflow_tests.ensure_worker('mixed');
SELECT pgflow.start_flow('mixed', '{"go": false}', '00000000-0000-0000-0000-0000000b0004');
SELECT is(pg_temp.states('00000000-0000-0000-0000-0000000b0004'),
          ARRAY['maybe:skipped:condition_unmet', 'surely:started', 'join:created', 'each:completed', 'after_each:started'],
          'the map whose only dependency was skipped completes with [] at once');
SELECT results_eq($$SELECT step_slug, input FROM pgflow_cpp.read_and_start_tasks('mixed', 30, 10, pgflow_tests.worker_id()) ORDER BY step_slug$$,
                  $$VALUES ('after_each'::text, '{"run": {"go": false}, "each": []}'::jsonb), ('surely', '{"run": {"go": false}}')$$,
                  'read_and_start_tasks: the map''s dependent sees []');
SELECT pg_temp.complete_all('00000000-0000-0000-0000-0000000b0004', ARRAY['"e"', '{"s": 1}']::jsonb[]);
SELECT results_eq($$SELECT step_slug, input FROM pgflow_cpp.read_and_start_tasks('mixed', 30, 10, pgflow_tests.worker_id())$$,
                  $$VALUES ('join'::text, '{"run": {"go": false}, "surely": {"s": 1}}'::jsonb)$$,
                  'a dependent of a skipped and a completed step gets only the completed one''s key');
SELECT pg_temp.complete_all('00000000-0000-0000-0000-0000000b0004', ARRAY['"j"']::jsonb[]);
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000b0004'$$,
                  $$VALUES ('completed'::text, '{"join": "j", "after_each": "e"}'::jsonb)$$, 'the run completes');
