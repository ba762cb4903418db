-- Subflow steps (issue 15): a child run per task started in the same transaction (no message, no
-- worker), its parent recorded in run_control; the child's completion completes the parent's
-- task (through wake_due_waits), its failure fails it (a retry is a new child run), a map of
-- subflows gives the children's outputs in order, cancelling a parent cancels its children
-- recursively, a failed parent cancels its running children, a child that cannot start fails the
-- task, and prune removes runs with children.
\ir fixtures/realtime_stand_in.sql
SELECT plan(53);

SELECT pgflow.create_flow('kid', max_attempts => 1);
SELECT pgflow.add_step('kid', 'work');
SELECT pgflow.create_flow('mom');
SELECT pgflow.add_step('mom', 'prep');
SELECT pgflow.add_step('mom', 'sub', ARRAY['prep'], max_attempts => 2, base_delay => 0);
SELECT pgflow.add_step('mom', 'after', ARRAY['sub']);
SELECT pgflow_cpp.set_step_kind('mom', 'sub', 'subflow', child_flow_slug => 'kid');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('mom', 'sub', 'subflow', child_flow_slug => 'mom')$$, '22023', NULL,
                 'a flow cannot be its own subflow');
SELECT pgflow.create_flow('loop_a');
SELECT pgflow.add_step('loop_a', 's');
SELECT pgflow.create_flow('loop_b');
SELECT pgflow.add_step('loop_b', 's');
SELECT pgflow_cpp.set_step_kind('loop_b', 's', 'subflow', child_flow_slug => 'loop_a');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('loop_a', 's', 'subflow', child_flow_slug => 'loop_b')$$, '22023',
                 'Step "s" of flow "loop_a": child flow "loop_b" runs flow "loop_a" itself (a cycle of subflows)',
                 'a cycle of subflows is refused');
SELECT pgflow_tests.ensure_worker('mom');
SELECT pgflow_tests.ensure_worker('kid');

-- 1. Completion.
SELECT pgflow.start_flow('mom', '{"n": 1}', '00000000-0000-0000-0000-00000000b001');
SELECT is(pgflow_tests.run_visible_tasks('mom', '{"x": 1}'), 1, 'prep runs');
SELECT results_eq($$SELECT t.status, t.message_id IS NULL, w.kind, w.wake_at FROM pgflow.step_tasks AS t
                    JOIN pgflow_cpp.waits AS w USING (run_id, step_slug, task_index)
                    WHERE t.run_id = '00000000-0000-0000-0000-00000000b001' AND t.step_slug = 'sub'$$,
                  $$VALUES ('queued'::text, true, 'subflow'::text, NULL::timestamptz)$$, 'the subflow task waits, without a message');
SELECT results_eq($$SELECT r.flow_slug, r.input, r.status, c.parent_step_slug, c.parent_task_index
                    FROM pgflow_cpp.run_control AS c JOIN pgflow.runs AS r USING (run_id)
                    WHERE c.parent_run_id = '00000000-0000-0000-0000-00000000b001'$$,
                  $$VALUES ('kid'::text, '{"x": 1}'::jsonb, 'started'::text, 'sub'::text, 0)$$,
                  'a child run started with the dependency''s output, its parent recorded');
SELECT is((SELECT child_run_id FROM pgflow_cpp.waits WHERE run_id = '00000000-0000-0000-0000-00000000b001'),
          (SELECT run_id FROM pgflow_cpp.run_control WHERE parent_run_id = '00000000-0000-0000-0000-00000000b001'),
          'the wait points to the child');
SELECT is((SELECT payload->>'child_run_id' FROM realtime.messages WHERE event = 'step:sub:waiting'),
          (SELECT run_id::text FROM pgflow_cpp.run_control WHERE parent_run_id = '00000000-0000-0000-0000-00000000b001'),
          'step:waiting names the child run');
SELECT is(pgflow_tests.run_visible_tasks('mom'), 0, 'no worker of the parent can claim the subflow task');
SELECT is(pgflow_tests.run_visible_tasks('kid', '"kid done"'), 1, 'the child''s step runs');
SELECT ok((SELECT wake_at <= now() FROM pgflow_cpp.waits WHERE run_id = '00000000-0000-0000-0000-00000000b001'),
          'the child''s completion made the parent''s wait due');
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'wake_due_waits handles it');
SELECT results_eq($$SELECT status, output, attempts_count FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-00000000b001' AND step_slug = 'sub'$$,
                  $$VALUES ('completed'::text, '{"work": "kid done"}'::jsonb, 1)$$, 'the parent''s task completed with the child''s run output');
SELECT is((SELECT input->'sub' FROM pgflow_tests.read_and_start('mom', 30, 10)), '{"work": "kid done"}'::jsonb,
          'the dependent gets it as input');

-- 2. Failure: a retry is a new child run; exhausted, the parent fails with the child's error.
SELECT pgflow.start_flow('mom', '{"n": 2}', '00000000-0000-0000-0000-00000000b002');
SELECT pgflow_tests.run_visible_tasks('mom', '{"x": 2}');
SELECT count(*) FROM pgflow_tests.read_and_start('kid', 30, 10) AS t, LATERAL pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'kid broke') AS f;
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the failed child is handled');
SELECT results_eq($$SELECT t.status, t.attempts_count, t.error_message LIKE 'Child run % of flow "kid" failed: kid broke', w.child_run_id IS NULL
                    FROM pgflow.step_tasks AS t JOIN pgflow_cpp.waits AS w USING (run_id, step_slug, task_index)
                    WHERE t.run_id = '00000000-0000-0000-0000-00000000b002' AND t.step_slug = 'sub'$$,
                  $$VALUES ('queued'::text, 1, true, true)$$, 'the attempt failed; a retry is due');
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the retry is handled');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE parent_run_id = '00000000-0000-0000-0000-00000000b002'), 2::bigint,
          'a new child run started');
SELECT ok((SELECT w.child_run_id IS NOT NULL AND r.status = 'started' FROM pgflow_cpp.waits AS w JOIN pgflow.runs AS r ON r.run_id = w.child_run_id
           WHERE w.run_id = '00000000-0000-0000-0000-00000000b002'), 'the wait points to the new child');
SELECT count(*) FROM pgflow_tests.read_and_start('kid', 30, 10) AS t, LATERAL pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'kid broke again') AS f;
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the second failure is handled');
SELECT results_eq($$SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000b002'$$,
                  $$VALUES ('failed'::text)$$, 'exhausted: the parent run fails');
SELECT ok((SELECT error_message LIKE 'Child run % of flow "kid" failed: kid broke again' FROM pgflow.step_states
           WHERE run_id = '00000000-0000-0000-0000-00000000b002' AND step_slug = 'sub'), 'with the child''s error');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits WHERE run_id = '00000000-0000-0000-0000-00000000b002'), 0::bigint, 'no wait is left');

-- 3. A map of subflows: the outputs in task order, whatever order the children finish in.
SELECT pgflow.create_flow('fan');
SELECT pgflow.add_step('fan', 'each', step_type => 'map');
SELECT pgflow_cpp.set_step_kind('fan', 'each', 'subflow', child_flow_slug => 'kid');
SELECT pgflow_tests.ensure_worker('fan');
SELECT pgflow.start_flow('fan', '[10, 20, 30]', '00000000-0000-0000-0000-00000000b003');
SELECT results_eq($$SELECT r.input FROM pgflow_cpp.run_control AS c JOIN pgflow.runs AS r USING (run_id)
                    WHERE c.parent_run_id = '00000000-0000-0000-0000-00000000b003' ORDER BY c.parent_task_index$$,
                  $$VALUES ('10'::jsonb), ('20'), ('30')$$, 'one child run per element, with the element as input');
SELECT count(*) FROM (
  SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, to_jsonb(r.input::text || '!'))
  FROM pgflow_tests.read_and_start('kid', 30, 10) AS t JOIN pgflow.runs AS r ON r.run_id = t.run_id
  ORDER BY r.input DESC) AS done;
SELECT is(pgflow_cpp.wake_due_waits(), 3, 'the three are handled');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000b003'$$,
                  $$VALUES ('completed'::text, '{"each": [{"work": "10!"}, {"work": "20!"}, {"work": "30!"}]}'::jsonb)$$,
                  'the parent completes with the children''s outputs in order');
SELECT pgflow.start_flow('fan', '[]', '00000000-0000-0000-0000-00000000b004');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000b004'), 'completed',
          'an empty map of subflows completes at once');

-- 4. Cancel cascade, three levels: grandparent -> parent -> child.
SELECT pgflow.create_flow('gma');
SELECT pgflow.add_step('gma', 'down');
SELECT pgflow_cpp.set_step_kind('gma', 'down', 'subflow', child_flow_slug => 'fan');
SELECT pgflow_tests.ensure_worker('gma');
SELECT pgflow.start_flow('gma', '[1, 2]', '00000000-0000-0000-0000-00000000b005');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE status = 'started' AND flow_slug IN ('fan', 'kid')
           AND run_id IN (SELECT run_id FROM pgflow_cpp.run_control WHERE parent_run_id IS NOT NULL)), 3::bigint,
          'a grandparent started a parent, which started two children');
SELECT is(pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000b005'), true, 'cancel the grandparent');
SELECT is((SELECT array_agg(s.status ORDER BY r.flow_slug) FROM pgflow.runs AS r
           CROSS JOIN LATERAL pgflow_cpp.run_status(r.run_id) AS s
           WHERE r.started_at = (SELECT started_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000b005')),
          ARRAY['cancelled', 'cancelled', 'cancelled', 'cancelled'], 'its descendants are cancelled too');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('kid')), 0::bigint, 'no child message is left');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits), 0::bigint, 'no wait is left');

-- 5. A parent that fails for another reason cancels its running child.
SELECT pgflow.create_flow('twin');
SELECT pgflow.add_step('twin', 'sub');
SELECT pgflow.add_step('twin', 'bad', max_attempts => 1);
SELECT pgflow_cpp.set_step_kind('twin', 'sub', 'subflow', child_flow_slug => 'kid');
SELECT pgflow_tests.ensure_worker('twin');
SELECT pgflow.start_flow('twin', '{}', '00000000-0000-0000-0000-00000000b006');
SELECT count(*) FROM pgflow_tests.read_and_start('twin', 30, 10) AS t, LATERAL pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'sibling broke') AS f;
SELECT is((SELECT s.status FROM pgflow_cpp.run_control AS c CROSS JOIN LATERAL pgflow_cpp.run_status(c.run_id) AS s
           WHERE c.parent_run_id = '00000000-0000-0000-0000-00000000b006'), 'cancelled', 'the failed parent''s child is cancelled');

-- 6. A child that cannot start fails the task with why.
SELECT pgflow.create_flow('bad_parent');
SELECT pgflow.add_step('bad_parent', 'sub', max_attempts => 1);
SELECT pgflow_cpp.set_step_kind('bad_parent', 'sub', 'subflow', child_flow_slug => 'fan');
SELECT pgflow.start_flow('bad_parent', '{"not": "an array"}', '00000000-0000-0000-0000-00000000b007');
SELECT results_eq($$SELECT child_run_id IS NULL, start_error, wake_at <= now() FROM pgflow_cpp.waits
                    WHERE run_id = '00000000-0000-0000-0000-00000000b007'$$,
                  $$VALUES (true, 'Child run of flow "fan" could not start: Flow fan has root map steps but input is not an array (got object)'::text, true)$$,
                  'the child could not start; the wait is due');
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'handled');
SELECT results_eq($$SELECT r.status, s.error_message FROM pgflow.runs AS r JOIN pgflow.step_states AS s USING (run_id)
                    WHERE r.run_id = '00000000-0000-0000-0000-00000000b007'$$,
                  $$VALUES ('failed'::text, 'Child run of flow "fan" could not start: Flow fan has root map steps but input is not an array (got object)'::text)$$,
                  'the task and the run failed with why');

-- 7. Retry and resume of a parent whose subflow failed: a new parent run starts new children.
SELECT ok(pgflow_cpp.retry_run('00000000-0000-0000-0000-00000000b002') IS NOT NULL, 'retry_run of the failed parent');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control AS c JOIN pgflow.runs AS r ON r.run_id = c.parent_run_id
           WHERE r.run_id = (SELECT run_id FROM pgflow_cpp.run_control WHERE restart_of_run_id = '00000000-0000-0000-0000-00000000b002')),
          0::bigint, 'the retried run waits for prep first (no child yet)');
SELECT lives_ok($$SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-00000000b007')$$, 'resume_run of the failed parent');
SELECT is((SELECT count(*) FROM pgflow_cpp.waits AS w JOIN pgflow_cpp.run_control AS c ON c.run_id = w.run_id
           WHERE c.restart_of_run_id = '00000000-0000-0000-0000-00000000b007'), 1::bigint, 'the resumed run''s subflow task waits again');

-- 7b. Resume of a partly completed map of subflows: the missing task waits on a new child run.
SELECT pgflow.create_flow('fan1');
SELECT pgflow.add_step('fan1', 'each', step_type => 'map', max_attempts => 1);
SELECT pgflow_cpp.set_step_kind('fan1', 'each', 'subflow', child_flow_slug => 'kid');
SELECT pgflow.start_flow('fan1', '[1, 2, 3]', '00000000-0000-0000-0000-00000000b008');
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'the resumed parent''s child cannot start either: handled');
CREATE TEMP TABLE kid_tasks AS SELECT t.*, r.input AS run_input FROM pgflow_tests.read_and_start('kid', 30, 10) AS t
  JOIN pgflow.runs AS r ON r.run_id = t.run_id;
SELECT count(*) FROM kid_tasks AS t, LATERAL pgflow.complete_task(t.run_id, t.step_slug, t.task_index, t.run_input) AS c
WHERE t.run_input <> '3';
SELECT is(pgflow_cpp.wake_due_waits(1), 1, 'one at a time (max_count)');
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'then the other');
SELECT count(*) FROM kid_tasks AS t, LATERAL pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'three') AS c
WHERE t.run_input = '3';
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'then the failed one');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000b008'), 'failed', 'the map''s third child failed it');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000b008' AND status = 'completed'), 2::bigint,
          'two tasks completed');
CREATE TEMP TABLE resumed AS SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-00000000b008') AS run_id;
SELECT results_eq($$SELECT t.task_index, t.status, t.message_id IS NULL, w.child_run_id IS NOT NULL
                    FROM pgflow.step_tasks AS t LEFT JOIN pgflow_cpp.waits AS w USING (run_id, step_slug, task_index)
                    WHERE t.run_id = (SELECT run_id FROM resumed) ORDER BY t.task_index$$,
                  $$VALUES (0, 'completed'::text, true, false), (1, 'completed', true, false), (2, 'queued', true, true)$$,
                  'resumed: the completed tasks are reused, the missing one waits on a new child run (no message)');
SELECT count(*) FROM pgflow_tests.read_and_start('kid', 30, 10) AS t, LATERAL pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"3 again"') AS c;
SELECT is(pgflow_cpp.wake_due_waits(), 1, 'its child completed');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = (SELECT run_id FROM resumed)$$,
                  $$VALUES ('completed'::text, '{"each": [{"work": 1}, {"work": 2}, {"work": "3 again"}]}'::jsonb)$$,
                  'the resumed run completes with the outputs in order');

-- A child inherits its parent's priority (flow control: start_flow_with_priority).
SELECT pgflow_cpp.start_flow_with_priority('fan', '[1]', 7, '00000000-0000-0000-0000-0000000fb001');
SELECT is((SELECT array_agg(p.priority) FROM pgflow_cpp.run_control AS c
           JOIN pgflow_cpp.run_priorities AS p ON p.run_id = c.run_id
           WHERE c.parent_run_id = '00000000-0000-0000-0000-0000000fb001'),
          ARRAY[7], 'a child run inherits its parent''s priority');

-- 8. Prune: runs with children and children of pruned parents.
-- Finished an hour before a 1-hour retention's cutoff (every timestamp, for the tables' ordering checks).
UPDATE pgflow.runs SET started_at = started_at - interval '2 hours', completed_at = completed_at - interval '2 hours',
                       failed_at = failed_at - interval '2 hours'
WHERE status <> 'started';
SELECT lives_ok($$SELECT pgflow.prune_data_older_than(interval '1 hour')$$, 'prune runs with children');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE status <> 'started'), 0::bigint, 'every finished run is gone');

-- 9. Maps of subflows over a single step's output and over a map's tasks: each child gets its element.
SELECT pgflow.create_flow('fan_dep');
SELECT pgflow.add_step('fan_dep', 'list');
SELECT pgflow.add_step('fan_dep', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('fan_dep', 'again', ARRAY['each'], step_type => 'map');
SELECT pgflow_cpp.set_step_kind('fan_dep', 'each', 'subflow', child_flow_slug => 'kid');
SELECT pgflow_cpp.set_step_kind('fan_dep', 'again', 'subflow', child_flow_slug => 'kid');
SELECT pgflow_tests.ensure_worker('fan_dep');
SELECT pgflow.start_flow('fan_dep', '{}', '00000000-0000-0000-0000-00000000b00d');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '["a", "b", "c"]')
FROM pgflow_tests.read_and_start('fan_dep', 30, 10) AS t;
SELECT results_eq($$SELECT r.input FROM pgflow_cpp.run_control AS c JOIN pgflow.runs AS r USING (run_id)
                    WHERE c.parent_run_id = '00000000-0000-0000-0000-00000000b00d' AND c.parent_step_slug = 'each'
                    ORDER BY c.parent_task_index$$,
                  $$VALUES ('"a"'::jsonb), ('"b"'), ('"c"')$$, 'a map over a single step''s output: its elements in order');
SELECT count(*) FROM (
  SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, to_jsonb(r.input #>> '{}' || '!'))
  FROM pgflow_tests.read_and_start('kid', 30, 10) AS t JOIN pgflow.runs AS r ON r.run_id = t.run_id) AS done;
SELECT pgflow_cpp.wake_due_waits();
SELECT results_eq($$SELECT r.input FROM pgflow_cpp.run_control AS c JOIN pgflow.runs AS r USING (run_id)
                    WHERE c.parent_run_id = '00000000-0000-0000-0000-00000000b00d' AND c.parent_step_slug = 'again'
                    ORDER BY c.parent_task_index$$,
                  $$VALUES ('{"work": "a!"}'::jsonb), ('{"work": "b!"}'), ('{"work": "c!"}')$$,
                  'a map over a map''s tasks: their outputs in order');

SELECT * FROM finish();
