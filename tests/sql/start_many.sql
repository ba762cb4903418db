-- pgflow_cpp.start_many: N runs in one call and one transaction, in the order of the inputs, each
-- as start_flow starts it; all or nothing, with the refused input's position in the error.
\ir fixtures/realtime_stand_in.sql
SELECT plan(14);

SELECT pgflow.create_flow('many');
SELECT pgflow.add_step('many', 'a');
SELECT pgflow.create_flow('many_map');
SELECT pgflow.add_step('many_map', 'm', step_type => 'map');

SELECT results_eq($$SELECT input FROM pgflow_cpp.start_many('many', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[])$$,
                  $$VALUES ('{"n": 1}'::jsonb), ('{"n": 2}'::jsonb), ('{"n": 3}'::jsonb)$$,
                  'three runs, returned in the order of the inputs');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'many' AND status = 'started'), 3::bigint, 'all started');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE flow_slug = 'many' AND status = 'queued'), 3::bigint,
          'each with its first task queued');
SELECT is((SELECT count(*) FROM realtime.messages WHERE event = 'run:started'), 3::bigint, 'and its run:started event');
SELECT results_eq($$SELECT run_id FROM pgflow_cpp.start_many('many', ARRAY['1', '2']::jsonb[],
                    ARRAY['00000000-0000-0000-0000-0000000a0001', NULL]::uuid[]) LIMIT 1$$,
                  $$VALUES ('00000000-0000-0000-0000-0000000a0001'::uuid)$$, 'run ids are honoured (NULL: generated)');
SELECT is(cardinality(ARRAY(SELECT 1 FROM pgflow_cpp.start_many('many', '{}'::jsonb[]))), 0, 'no inputs, no runs');
SELECT is(cardinality(ARRAY(SELECT 1 FROM pgflow_cpp.start_many('many', NULL))), 0, 'NULL inputs, no runs');

CREATE TEMP TABLE runs_before AS SELECT count(*) AS n FROM pgflow.runs;
SELECT throws_ok($$SELECT pgflow_cpp.start_many('many', ARRAY['1', '2']::jsonb[], ARRAY[gen_random_uuid()])$$,
                 '22023', 'start_many: 2 inputs but 1 run ids (give one run id per input, or none)',
                 'run ids must match the inputs one to one');
SELECT throws_ok($$SELECT pgflow_cpp.start_many('many', ARRAY[['{}'], ['{}']]::jsonb[])$$, '22023',
                 'start_many: inputs and run_ids must be one-dimensional arrays (got 2 and 1 dimensions)',
                 'a two-dimensional inputs array is refused as such');
SELECT throws_ok($$SELECT pgflow_cpp.start_many('many', ARRAY['1', '2']::jsonb[], ARRAY[[gen_random_uuid()], [gen_random_uuid()]])$$,
                 '22023', 'start_many: inputs and run_ids must be one-dimensional arrays (got 1 and 2 dimensions)',
                 'and so is a two-dimensional run_ids array');
SELECT throws_ok($$SELECT pgflow_cpp.start_many('many', ARRAY['1', NULL]::jsonb[])$$,
                 '22004', 'start_many: input 2 of 2: input is NULL (a run''s input is a JSON value; JSON null is ''null''::jsonb)',
                 'a NULL input is refused with its position');
SELECT throws_ok($$SELECT pgflow_cpp.start_many('many_map', ARRAY['[1]', '[2]', '{"not": "an array"}']::jsonb[])$$,
                 'P0001', 'start_many: input 3 of 3: Flow many_map has root map steps but input is not an array (got object)',
                 'start_flow''s refusal, with the position');
SELECT throws_ok($$SELECT pgflow_cpp.start_many('many', ARRAY['1', '2']::jsonb[],
                   ARRAY['00000000-0000-0000-0000-0000000a0002', '00000000-0000-0000-0000-0000000a0002']::uuid[])$$,
                 '23505', 'start_many: input 2 of 2: duplicate key value violates unique constraint "runs_pkey"',
                 'a run id given twice is refused');
SELECT is((SELECT count(*) FROM pgflow.runs), (SELECT n FROM runs_before), 'a refused batch starts none of its runs');

SELECT * FROM finish();
