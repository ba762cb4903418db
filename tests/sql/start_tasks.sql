-- start_tasks: claiming, task inputs for every step kind, what it ignores, and the visibility
-- timeout it sets (timeout + 2 s, sql/README.md difference 1).
SELECT plan(25);

SELECT pgflow.create_flow('inputs', timeout => 20);
SELECT pgflow.add_step('inputs', 'fetch');                                         -- single root
SELECT pgflow.add_step('inputs', 'items', ARRAY['fetch'], step_type => 'map');     -- map over single
SELECT pgflow.add_step('inputs', 'doubled', ARRAY['items'], step_type => 'map', timeout => 7);  -- map over map
SELECT pgflow.add_step('inputs', 'summary', ARRAY['fetch', 'doubled']);            -- single with two deps
SELECT pgflow_tests.ensure_worker('inputs');

SELECT pgflow.start_flow('inputs', '{"n": 2}', '00000000-0000-0000-0000-000000000001');

SELECT is((SELECT count(*) FROM pgflow.start_tasks('inputs', NULL, pgflow_tests.worker_id())), 0::bigint,
          'NULL msg_ids claim nothing');
SELECT is((SELECT count(*) FROM pgflow.start_tasks('inputs', '{}', pgflow_tests.worker_id())), 0::bigint,
          'empty msg_ids claim nothing');
SELECT is((SELECT count(*) FROM pgflow.start_tasks('inputs', ARRAY[424242]::bigint[], pgflow_tests.worker_id())), 0::bigint,
          'unknown msg_ids claim nothing');
SELECT is((SELECT count(*) FROM pgflow.start_tasks('other_flow', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id())),
          0::bigint, 'messages of another flow claim nothing');
SELECT throws_ok(
  $$SELECT * FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks), '99999999-9999-9999-9999-999999999999')$$,
  '23503', 'insert or update on table "step_tasks" violates foreign key constraint "step_tasks_last_worker_id_fkey"',
  'a worker missing from pgflow.workers cannot claim');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE step_slug = 'fetch'), 'queued', 'the failed claim left the task queued');

SELECT results_eq(
  $$SELECT flow_slug, run_id, step_slug, input, task_index
    FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id())$$,
  $$VALUES ('inputs'::text, '00000000-0000-0000-0000-000000000001'::uuid, 'fetch'::text, '{"run": {"n": 2}}'::jsonb, 0)$$,
  'a root single step gets {"run": <run input>}');
SELECT results_eq(
  $$SELECT status, attempts_count, started_at IS NOT NULL, last_worker_id FROM pgflow.step_tasks WHERE step_slug = 'fetch'$$,
  $$VALUES ('started'::text, 1, true, pgflow_tests.worker_id())$$,
  'claiming sets status started, attempts_count 1, started_at and last_worker_id');
SELECT ok((SELECT pgflow_tests.visible_in('inputs', message_id) BETWEEN 21 AND 22 FROM pgflow.step_tasks WHERE step_slug = 'fetch'),
          'the claimed message is hidden for the flow timeout + 2 s');
SELECT is((SELECT count(*) FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id())),
          0::bigint, 'a started task is not claimed again before its deadline');
SELECT is((SELECT attempts_count FROM pgflow.step_tasks WHERE step_slug = 'fetch'), 1, 'and its attempts_count is unchanged');

SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000001', 'fetch', 0, '[10, null, "x"]');
SELECT results_eq(
  $$SELECT step_slug, task_index, input
    FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE status = 'queued'), pgflow_tests.worker_id())
    ORDER BY task_index$$,
  $$VALUES ('items'::text, 0, '10'::jsonb), ('items', 1, 'null'), ('items', 2, '"x"')$$,
  'a map over a single step gets the raw elements of its array output');
SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000001', 'items', 2, '{"v": 3}');
SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000001', 'items', 0, '1');
SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000001', 'items', 1, NULL);
SELECT results_eq(
  $$SELECT step_slug, task_index, input
    FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE status = 'queued'), pgflow_tests.worker_id())
    ORDER BY task_index$$,
  $$VALUES ('doubled'::text, 0, '1'::jsonb), ('doubled', 1, 'null'), ('doubled', 2, '{"v": 3}')$$,
  'a map over a map gets element i of the parent''s ordered outputs (NULL output as JSON null)');
SELECT ok((SELECT bool_and(pgflow_tests.visible_in('inputs', message_id) BETWEEN 8 AND 9)
           FROM pgflow.step_tasks WHERE step_slug = 'doubled'),
          'a step-level timeout overrides the flow''s (7 + 2 s)');
SELECT pgflow.complete_task('00000000-0000-0000-0000-000000000001', 'doubled', i, to_jsonb(i * 2)) FROM generate_series(2, 0, -1) AS i;
SELECT results_eq(
  $$SELECT step_slug, input
    FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE status = 'queued'), pgflow_tests.worker_id())$$,
  $$VALUES ('summary'::text, '{"run": {"n": 2}, "fetch": [10, null, "x"], "doubled": [0, 2, 4]}'::jsonb)$$,
  'a single step gets run plus each dependency: a single dep''s output, a map dep''s outputs by task_index');

-- Root map input: element task_index of the run input.
SELECT pgflow.create_flow('roots');
SELECT pgflow.add_step('roots', 'each', step_type => 'map');
SELECT pgflow.add_step('roots', 'sum', ARRAY['each']);
SELECT pgflow.add_step('roots', 'plain');
SELECT pgflow.start_flow('roots', '[{"a": 1}, [2], "three"]', '00000000-0000-0000-0000-000000000002');
SELECT results_eq(
  $$SELECT step_slug, task_index, input
    FROM pgflow.start_tasks('roots', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'roots'), pgflow_tests.worker_id())
    ORDER BY step_slug, task_index$$,
  $$VALUES ('each'::text, 0, '{"a": 1}'::jsonb), ('each', 1, '[2]'), ('each', 2, '"three"'),
           ('plain', 0, '{"run": [{"a": 1}, [2], "three"]}')$$,
  'a root map task gets the raw element of the run input; a root single step the whole input');

-- A single step after an empty map gets [] for it.
SELECT pgflow.start_flow('roots', '[]', '00000000-0000-0000-0000-000000000003');
SELECT results_eq(
  $$SELECT step_slug, input
    FROM pgflow.start_tasks('roots', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                           WHERE run_id = '00000000-0000-0000-0000-000000000003'), pgflow_tests.worker_id())
    ORDER BY step_slug$$,
  $$VALUES ('plain'::text, '{"run": []}'::jsonb), ('sum', '{"run": [], "each": []}')$$,
  'a step depending on an empty map gets [] for it');

-- A dependency whose output was NULL appears as JSON null.
SELECT pgflow.create_flow('nulls');
SELECT pgflow.add_step('nulls', 'a');
SELECT pgflow.add_step('nulls', 'b', ARRAY['a']);
SELECT pgflow.start_flow('nulls', '1', '00000000-0000-0000-0000-000000000004');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, NULL) FROM pgflow_tests.read_and_start('nulls') t;
SELECT results_eq($$SELECT input FROM pgflow_tests.read_and_start('nulls')$$, $$VALUES ('{"run": 1, "a": null}'::jsonb)$$,
                  'a NULL dependency output is passed as JSON null');

-- Falsy outputs are passed on as they are (sql/README.md, difference 2).
SELECT pgflow.create_flow('falsy');
SELECT pgflow.add_step('falsy', 'zero');
SELECT pgflow.add_step('falsy', 'no');
SELECT pgflow.add_step('falsy', 'empty');
SELECT pgflow.add_step('falsy', 'last', ARRAY['zero', 'no', 'empty']);
SELECT pgflow.start_flow('falsy', '{}', '00000000-0000-0000-0000-000000000005');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index,
                            CASE t.step_slug WHEN 'zero' THEN '0' WHEN 'no' THEN 'false' ELSE '""' END::jsonb)
FROM pgflow_tests.read_and_start('falsy', 1, 3) t;
SELECT results_eq($$SELECT input FROM pgflow_tests.read_and_start('falsy')$$,
                  $$VALUES ('{"run": {}, "zero": 0, "no": false, "empty": ""}'::jsonb)$$,
                  'falsy outputs (0, false, "") are kept, not turned into null');

-- Failed runs: their tasks are not claimed.
SELECT pgflow.create_flow('doomed', max_attempts => 1);
SELECT pgflow.add_step('doomed', 'x', step_type => 'map');
SELECT pgflow.start_flow('doomed', '[1, 2]', '00000000-0000-0000-0000-000000000006');
SELECT pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'boom') FROM pgflow_tests.read_and_start('doomed') t;
SELECT is((SELECT count(*) FROM pgflow.start_tasks('doomed', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                                  WHERE run_id = '00000000-0000-0000-0000-000000000006'),
                                                   pgflow_tests.worker_id())),
          0::bigint, 'tasks of a failed run are not claimed');
SELECT results_eq($$SELECT task_index, status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-000000000006' ORDER BY 1$$,
                  $$VALUES (0, 'failed'::text), (1, 'cancelled')$$, 'the sibling of the failed task is cancelled (pgflow 0.15.1)');

-- Completed tasks are not claimed.
SELECT is((SELECT count(*) FROM pgflow.start_tasks('inputs', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'inputs' AND status = 'completed'),
                                                   pgflow_tests.worker_id())),
          0::bigint, 'completed tasks are not claimed');

-- Big batch: one call claims 2,000 map tasks with the right elements.
SELECT pgflow.create_flow('bulk');
SELECT pgflow.add_step('bulk', 'each', step_type => 'map');
SELECT pgflow.start_flow('bulk', (SELECT jsonb_agg(jsonb_build_object('i', i, 'pad', repeat('x', 50))) FROM generate_series(0, 1999) i));
SELECT is((SELECT count(*) FILTER (WHERE (input->>'i')::int = task_index)
           FROM pgflow.start_tasks('bulk', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'bulk'), pgflow_tests.worker_id())),
          2000::bigint, 'a batch of 2,000 root map tasks gets every element at its index');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE flow_slug = 'bulk' AND status = 'started' AND attempts_count = 1), 2000::bigint,
          'all 2,000 are started once');
SELECT ok((SELECT bool_and(vt > clock_timestamp() + interval '60 seconds') FROM pgflow_tests.queued_messages('bulk')),
          'all 2,000 messages are hidden for the timeout');

SELECT * FROM finish();
