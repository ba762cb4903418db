-- start_flow: run and step_state creation, root map sizing, messages, and the input errors.
SELECT plan(32);

SELECT pgflow.create_flow('shop');
SELECT pgflow.add_step('shop', 'root_b');
SELECT pgflow.add_step('shop', 'root_a');
SELECT pgflow.add_step('shop', 'join', ARRAY['root_a', 'root_b']);
SELECT pgflow.add_step('shop', 'fan', ARRAY['join'], step_type => 'map');

SELECT results_eq(
  $$SELECT run_id, flow_slug, status, input, output, remaining_steps, completed_at, failed_at
    FROM pgflow.start_flow('shop', '{"order": 7}', '00000000-0000-0000-0000-0000000000aa')$$,
  $$VALUES ('00000000-0000-0000-0000-0000000000aa'::uuid, 'shop'::text, 'started'::text, '{"order": 7}'::jsonb,
            NULL::jsonb, 4, NULL::timestamptz, NULL::timestamptz)$$,
  'start_flow returns the started run with the given run_id and remaining_steps = number of steps');
SELECT results_eq(
  $$SELECT step_slug, status, remaining_deps, initial_tasks, remaining_tasks, started_at IS NOT NULL
    FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000aa' ORDER BY step_slug$$,
  $$VALUES ('fan'::text, 'created'::text, 1, NULL::int, NULL::int, false),
           ('join', 'created', 2, 1, NULL, false),
           ('root_a', 'started', 0, 1, 1, true),
           ('root_b', 'started', 0, 1, 1, true)$$,
  'step states: roots started with one task, dependents waiting, dependent map size unknown');
SELECT results_eq(
  $$SELECT step_slug, task_index, status, attempts_count, message_id IS NOT NULL
    FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000aa' ORDER BY step_slug$$,
  $$VALUES ('root_a'::text, 0, 'queued'::text, 0, true), ('root_b', 0, 'queued', 0, true)$$,
  'one queued task per root step, each with its message');
SELECT results_eq(
  $$SELECT message FROM pgflow_tests.queued_messages('shop')$$,
  $$VALUES ('{"flow_slug": "shop", "run_id": "00000000-0000-0000-0000-0000000000aa", "step_slug": "root_a", "task_index": 0}'::jsonb),
           ('{"flow_slug": "shop", "run_id": "00000000-0000-0000-0000-0000000000aa", "step_slug": "root_b", "task_index": 0}'::jsonb)$$,
  'messages carry flow_slug, run_id, step_slug, task_index and are sent in step_slug order');
SELECT is((SELECT array_agg(t.message_id ORDER BY t.step_slug) FROM pgflow.step_tasks t),
          (SELECT array_agg(m.msg_id ORDER BY m.msg_id) FROM pgflow_tests.queued_messages('shop') m),
          'step_tasks.message_id points at the task''s message');
SELECT ok((SELECT bool_and(vt <= clock_timestamp()) FROM pgflow_tests.queued_messages('shop')),
          'root messages are visible at once');
SELECT results_eq($$SELECT remaining_steps FROM pgflow.start_flow('shop', '{}')$$, $$VALUES (4)$$,
                  'a generated run_id works too');
SELECT is((SELECT count(DISTINCT run_id) FROM pgflow.runs), 2::bigint, 'each start creates its own run');

-- Root map sizing.
SELECT pgflow.create_flow('mapper');
SELECT pgflow.add_step('mapper', 'each', step_type => 'map');
SELECT pgflow.add_step('mapper', 'after', ARRAY['each']);
SELECT pgflow.start_flow('mapper', '[10, [1, 2], null, 10, {"a": 1}]', '00000000-0000-0000-0000-0000000000bb');
SELECT results_eq(
  $$SELECT initial_tasks, remaining_tasks, status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000bb' AND step_slug = 'each'$$,
  $$VALUES (5, 5, 'started'::text)$$,
  'a root map gets one task per top-level element (nested arrays, nulls and duplicates count)');
SELECT is((SELECT array_agg(task_index ORDER BY message_id) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000bb'),
          ARRAY[0, 1, 2, 3, 4], 'map task messages are sent in task_index order');
SELECT is((SELECT array_agg((message->>'task_index')::int ORDER BY msg_id) FROM pgflow_tests.queued_messages('mapper')),
          ARRAY[0, 1, 2, 3, 4], 'each map message names its task_index');
SELECT results_eq(
  $$SELECT initial_tasks, status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000bb' AND step_slug = 'after'$$,
  $$VALUES (1, 'created'::text)$$, 'a single step after a map waits');

-- Input errors.
SELECT throws_ok($$SELECT pgflow.start_flow('mapper', NULL)$$, 'P0001',
                 'Flow mapper has root map steps but input is NULL', 'root map flow: NULL input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('mapper', '{"a": 1}')$$, 'P0001',
                 'Flow mapper has root map steps but input is not an array (got object)', 'root map flow: object input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('mapper', '"text"')$$, 'P0001',
                 'Flow mapper has root map steps but input is not an array (got string)', 'root map flow: string input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('mapper', '42')$$, 'P0001',
                 'Flow mapper has root map steps but input is not an array (got number)', 'root map flow: number input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('mapper', 'true')$$, 'P0001',
                 'Flow mapper has root map steps but input is not an array (got boolean)', 'root map flow: boolean input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('mapper', 'null')$$, 'P0001',
                 'Flow mapper has root map steps but input is not an array (got null)', 'root map flow: JSON null input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('nosuch', '{}')$$, '23503',
                 'insert or update on table "runs" violates foreign key constraint "runs_flow_slug_fkey"', 'an unknown flow is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('shop', NULL)$$, '23502',
                 'null value in column "input" of relation "runs" violates not-null constraint', 'NULL input is rejected');
SELECT throws_ok($$SELECT pgflow.start_flow('shop', '{}', '00000000-0000-0000-0000-0000000000aa')$$, '23505',
                 'duplicate key value violates unique constraint "runs_pkey"', 'a run_id already used is rejected');
SELECT is((SELECT count(*) FROM pgflow.runs), 3::bigint, 'rejected starts leave no run behind');
SELECT is((SELECT count(*) FROM pgflow.step_states WHERE run_id NOT IN (SELECT run_id FROM pgflow.runs)), 0::bigint,
          'and no step state');
SELECT lives_ok($$SELECT pgflow.start_flow('mapper', '[]')$$, 'an empty array is a valid root map input');
SELECT lives_ok($$SELECT pgflow.start_flow('shop', 'null')$$, 'JSON null is a valid input without root maps');

-- Zero-step flow: completes at once with a NULL output.
SELECT pgflow.create_flow('nothing');
SELECT results_eq($$SELECT status, output, remaining_steps, completed_at IS NOT NULL FROM pgflow.start_flow('nothing', '{"x": 1}')$$,
                  $$VALUES ('completed'::text, NULL::jsonb, 0, true)$$, 'a flow without steps completes at once with output NULL');

-- start_flow_with_states / get_run_with_states.
SELECT is((pgflow.start_flow_with_states('shop', '{"w": 1}', '00000000-0000-0000-0000-0000000000cc'))->'run'->>'run_id',
          '00000000-0000-0000-0000-0000000000cc', 'start_flow_with_states starts the run and returns it');
SELECT is(jsonb_array_length(pgflow.get_run_with_states('00000000-0000-0000-0000-0000000000cc')->'steps'), 4,
          'get_run_with_states lists every step state');
SELECT is((SELECT jsonb_agg(s->>'step_slug' ORDER BY s->>'step_slug')
           FROM jsonb_array_elements(pgflow.get_run_with_states('00000000-0000-0000-0000-0000000000cc')->'steps') s),
          '["fan", "join", "root_a", "root_b"]'::jsonb, 'get_run_with_states: step rows as JSON');
SELECT is(pgflow.get_run_with_states('00000000-0000-0000-0000-0000000000cc')->'run'->>'status', 'started',
          'get_run_with_states: the run row as JSON');
SELECT is(pgflow.get_run_with_states('00000000-0000-0000-0000-00000000ffff'), NULL, 'get_run_with_states of an unknown run is NULL');
SELECT is(pgflow.get_run_with_states((SELECT run_id FROM pgflow.runs WHERE flow_slug = 'nothing'))->'steps', '[]'::jsonb,
          'get_run_with_states: steps is [] for a run without steps');

SELECT * FROM finish();
