-- Empty maps: taskless steps complete at once with output [], emptiness propagates to dependent
-- maps, counters stay right, and the cascade stops at pgflow's safety limit (49 levels work,
-- 50 raise).
SELECT plan(16);

SELECT pgflow.create_flow('empties');
SELECT pgflow.add_step('empties', 'root_map', step_type => 'map');
SELECT pgflow.add_step('empties', 'child_map', ARRAY['root_map'], step_type => 'map');
SELECT pgflow.add_step('empties', 'after', ARRAY['child_map']);
SELECT pgflow_tests.ensure_worker('empties');

SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.start_flow('empties', '[]', '00000000-0000-0000-0000-0000000000f1')$$,
                  $$VALUES ('started'::text, 1)$$, 'an empty root map input completes both maps at start');
SELECT results_eq(
  $$SELECT step_slug, status, initial_tasks, remaining_tasks, remaining_deps, started_at = completed_at
    FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000f1' ORDER BY step_slug$$,
  $$VALUES ('after'::text, 'started'::text, 1, 1, 0, NULL::boolean),
           ('child_map', 'completed', 0, 0, 0, true),
           ('root_map', 'completed', 0, 0, 0, true)$$,
  'taskless maps are completed (started_at = completed_at), the dependent map learned it is empty, the single step started');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000f1' AND step_slug <> 'after'), 0::bigint,
          'taskless steps create no tasks');
SELECT is((SELECT input FROM pgflow_tests.read_and_start('empties')), '{"run": [], "child_map": []}'::jsonb,
          'the next step sees [] for the empty map');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000f1', 'after', 0, '"fin"');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000f1'$$,
                  $$VALUES ('completed'::text, '{"after": "fin"}'::jsonb)$$, 'the run then completes normally');

-- A flow made only of maps over an empty input completes inside start_flow.
SELECT pgflow.create_flow('all_empty');
SELECT pgflow.add_step('all_empty', 'a', step_type => 'map');
SELECT pgflow.add_step('all_empty', 'b', ARRAY['a'], step_type => 'map');
SELECT results_eq($$SELECT status, output, remaining_steps FROM pgflow.start_flow('all_empty', '[]')$$,
                  $$VALUES ('completed'::text, '{"b": []}'::jsonb, 0)$$,
                  'an all-taskless run completes at start with [] for its leaf map');

-- Emptiness discovered at completion: a single step returns [] to a map chain.
SELECT pgflow.create_flow('late_empty');
SELECT pgflow.add_step('late_empty', 'list');
SELECT pgflow.add_step('late_empty', 'm1', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('late_empty', 'm2', ARRAY['m1'], step_type => 'map');
SELECT pgflow.add_step('late_empty', 'other', ARRAY['list']);
SELECT pgflow.start_flow('late_empty', '{}', '00000000-0000-0000-0000-0000000000f2');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '[]') FROM pgflow_tests.read_and_start('late_empty') t;
SELECT results_eq(
  $$SELECT step_slug, status, initial_tasks FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000f2' ORDER BY step_slug$$,
  $$VALUES ('list'::text, 'completed'::text, 1), ('m1', 'completed', 0), ('m2', 'completed', 0), ('other', 'started', 1)$$,
  'an empty array output cascades through the map chain during complete_task');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000f2'), 1,
          'remaining_steps counts the cascaded steps');

-- cascade_complete_taskless_steps called directly with nothing to do.
SELECT is(pgflow.cascade_complete_taskless_steps('00000000-0000-0000-0000-0000000000f2'), 0,
          'cascade_complete_taskless_steps returns 0 when nothing is taskless');

-- Safety limit: a chain of 49 empty maps completes, 50 raises.
CREATE FUNCTION pg_temp.chain_flow(slug text, len int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.create_flow(slug);
  PERFORM pgflow.add_step(slug, 'm1', step_type => 'map');
  FOR i IN 2..len LOOP
    PERFORM pgflow.add_step(slug, 'm' || i, ARRAY['m' || (i - 1)], step_type => 'map');
  END LOOP;
END $$;
SELECT pg_temp.chain_flow('chain49', 49);
SELECT pg_temp.chain_flow('chain50', 50);

CREATE TEMP TABLE chain_timing AS SELECT clock_timestamp() AS t0;
SELECT results_eq($$SELECT status, remaining_steps, output FROM pgflow.start_flow('chain49', '[]')$$,
                  $$VALUES ('completed'::text, 0, '{"m49": []}'::jsonb)$$, 'a chain of 49 empty maps cascades to completion');
SELECT ok((SELECT clock_timestamp() - t0 < interval '5 seconds' FROM chain_timing), 'and does so in under 5 seconds');
SELECT is((SELECT count(*) FROM pgflow.step_states s JOIN pgflow.runs r USING (run_id)
           WHERE r.flow_slug = 'chain49' AND s.status = 'completed'), 49::bigint, 'all 49 steps completed');
SELECT throws_ok($$SELECT pgflow.start_flow('chain50', '[]')$$, 'P0001',
                 'Cascade loop exceeded safety limit of 50 iterations', 'a chain of 50 empty maps exceeds the cascade limit');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'chain50'), 0::bigint, 'the aborted start leaves no run behind');
SELECT lives_ok($$SELECT pgflow.start_flow('chain50', '[1]')$$, 'the same flow with a non-empty input starts normally');
SELECT is((SELECT count(*) FROM pgflow.step_tasks t JOIN pgflow.runs r USING (run_id) WHERE r.flow_slug = 'chain50'), 1::bigint,
          'with one task for its first map');

SELECT * FROM finish();
