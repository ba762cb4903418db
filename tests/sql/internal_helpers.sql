-- pgflow-cpp's internal helper functions, each on its own (their callers' files test them in
-- context): _realtime_send_exists, _single_dependency, _subflow_map_array, _restart_priority,
-- _start_child_run, _step_started_event, _step_completed_event, _run_completed_event, _run_output,
-- _queue_tasks and _broadcast_many.
SELECT plan(37);

-- _realtime_send_exists(): whether events also go to realtime.send(jsonb, text, text, boolean).
SELECT is(pgflow_cpp._realtime_send_exists(), false, '_realtime_send_exists: false without a realtime schema');
CREATE SCHEMA realtime;
SELECT is(pgflow_cpp._realtime_send_exists(), false, '_realtime_send_exists: false with the schema but no send');
CREATE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true)
RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT is(pgflow_cpp._realtime_send_exists(), true, '_realtime_send_exists: true once realtime.send exists');
DROP SCHEMA realtime CASCADE;
SELECT is(pgflow_cpp._realtime_send_exists(), false, '_realtime_send_exists: false again when it is dropped');

-- _single_dependency(run_id, flow_slug, step_slug): a step's one dependency, its type and status.
SELECT pgflow.create_flow('deps');
SELECT pgflow.add_step('deps', 'root');
SELECT pgflow.add_step('deps', 'items', step_type => 'map');
SELECT pgflow.add_step('deps', 'one', ARRAY['root']);
SELECT pgflow.add_step('deps', 'each', ARRAY['items'], step_type => 'map');
SELECT pgflow.add_step('deps', 'both', ARRAY['root', 'items']);
SELECT pgflow.start_flow('deps', '[1, 2]', '00000000-0000-0000-0000-00000000d001');
SELECT results_eq($$SELECT * FROM pgflow_cpp._single_dependency('00000000-0000-0000-0000-00000000d001', 'deps', 'one')$$,
                  $$VALUES ('root'::text, 'single'::text, 'started'::text)$$,
                  '_single_dependency: slug, step type and status of the dependency');
SELECT results_eq($$SELECT * FROM pgflow_cpp._single_dependency('00000000-0000-0000-0000-00000000d001', 'deps', 'each')$$,
                  $$VALUES ('items'::text, 'map'::text, 'started'::text)$$,
                  '_single_dependency: a map dependency says map');
SELECT is_empty($$SELECT * FROM pgflow_cpp._single_dependency('00000000-0000-0000-0000-00000000d001', 'deps', 'root')$$,
                '_single_dependency: no row for a root step');
SELECT is_empty($$SELECT * FROM pgflow_cpp._single_dependency('00000000-0000-0000-0000-00000000d0ff', 'deps', 'one')$$,
                '_single_dependency: no row for an unknown run');

-- _subflow_map_array(run_id, flow_slug, step_slug): the one array a map step maps, or NULL.
SELECT pgflow.create_flow('arrays');
SELECT pgflow.add_step('arrays', 'list');
SELECT pgflow.add_step('arrays', 'root_map', step_type => 'map');
SELECT pgflow.add_step('arrays', 'over_list', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('arrays', 'over_map', ARRAY['root_map'], step_type => 'map');
SELECT pgflow.add_step('arrays', 'single', ARRAY['list']);
SELECT pgflow_tests.ensure_worker('arrays');
SELECT pgflow.start_flow('arrays', '["a", "b"]', '00000000-0000-0000-0000-00000000a001');
SELECT is(pgflow_cpp._subflow_map_array('00000000-0000-0000-0000-00000000a001', 'arrays', 'root_map'), '["a", "b"]'::jsonb,
          '_subflow_map_array: a root map maps the run input');
SELECT is(pgflow_cpp._subflow_map_array('00000000-0000-0000-0000-00000000a001', 'arrays', 'over_list'), NULL,
          '_subflow_map_array: NULL while the dependency has not completed');
SELECT pgflow_cpp.read_and_start_tasks('arrays', 30, 10, pgflow_tests.worker_id());
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000a001', 'list', 0, '[10, 20, 30]');
SELECT is(pgflow_cpp._subflow_map_array('00000000-0000-0000-0000-00000000a001', 'arrays', 'over_list'),
          '[10, 20, 30]'::jsonb, '_subflow_map_array: a map over a completed single step maps its output');
SELECT is(pgflow_cpp._subflow_map_array('00000000-0000-0000-0000-00000000a001', 'arrays', 'over_map'), NULL,
          '_subflow_map_array: NULL for a map over a map (its elements are task outputs, read one by one)');
SELECT is(pgflow_cpp._subflow_map_array('00000000-0000-0000-0000-00000000a001', 'arrays', 'single'), NULL,
          '_subflow_map_array: NULL for a single step');
SELECT is(pgflow_cpp._subflow_map_array('00000000-0000-0000-0000-00000000a001', 'arrays', 'nope'), NULL,
          '_subflow_map_array: NULL for an unknown step');

-- _restart_priority(source_run_id, new_run_id, flow_slug): a restart gets its source's priority.
SELECT pgflow.start_flow('deps', '[]', r)
FROM unnest(ARRAY['00000000-0000-0000-0000-00000000e001', '00000000-0000-0000-0000-00000000e002',
                  '00000000-0000-0000-0000-00000000e003']::uuid[]) AS r;
INSERT INTO pgflow_cpp.run_control AS c (run_id, flow_slug, priority)
VALUES ('00000000-0000-0000-0000-00000000e001', 'deps', 7),
       ('00000000-0000-0000-0000-00000000e002', 'deps', 0),
       ('00000000-0000-0000-0000-00000000e003', 'deps', NULL)
ON CONFLICT (run_id) DO UPDATE SET priority = excluded.priority;
SELECT pgflow_cpp._restart_priority('00000000-0000-0000-0000-00000000e001', '00000000-0000-0000-0000-00000000e101', 'deps');
SELECT pgflow_cpp._restart_priority('00000000-0000-0000-0000-00000000e002', '00000000-0000-0000-0000-00000000e102', 'deps');
SELECT pgflow_cpp._restart_priority('00000000-0000-0000-0000-00000000e003', '00000000-0000-0000-0000-00000000e103', 'deps');
SELECT pgflow_cpp._restart_priority('00000000-0000-0000-0000-00000000e0ff', '00000000-0000-0000-0000-00000000e104', 'deps');
SELECT results_eq($$SELECT run_id, flow_slug, priority FROM pgflow_cpp.run_priorities
                    WHERE run_id::text LIKE '00000000-0000-0000-0000-00000000e1%' ORDER BY run_id$$,
                  $$VALUES ('00000000-0000-0000-0000-00000000e101'::uuid, 'deps'::text, 7)$$,
                  '_restart_priority: the new run gets priority 7; nothing for priority 0, none or an unknown source');

-- _start_child_run(run_id, flow_slug, step_slug, task_index, input): starts a subflow task's child.
SELECT pgflow.create_flow('child');
SELECT pgflow.add_step('child', 'work');
SELECT pgflow.create_flow('parent');
SELECT pgflow.add_step('parent', 'sub', step_type => 'map');
SELECT pgflow_cpp.set_step_kind('parent', 'sub', 'subflow', child_flow_slug => 'child');
SELECT pgflow.start_flow('parent', '[{"k": 1}, {"k": 2}]', '00000000-0000-0000-0000-00000000c001');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE parent_run_id = '00000000-0000-0000-0000-00000000c001'),
          2::bigint, 'starting the parent starts a child per element');
-- Calls of its own: a given input, then NULL (subflow_input's element).
DELETE FROM pgflow_cpp.waits WHERE run_id = '00000000-0000-0000-0000-00000000c001';
SELECT ok(pgflow_cpp._start_child_run('00000000-0000-0000-0000-00000000c001', 'parent', 'sub', 0, '{"given": true}')
          IS NOT NULL, '_start_child_run: returns the child''s run id');
SELECT results_eq($$SELECT r.flow_slug, r.input, c.parent_step_slug, c.parent_task_index
                    FROM pgflow_cpp.waits AS w JOIN pgflow.runs AS r ON r.run_id = w.child_run_id
                    JOIN pgflow_cpp.run_control AS c ON c.run_id = w.child_run_id
                    WHERE w.run_id = '00000000-0000-0000-0000-00000000c001' AND w.task_index = 0$$,
                  $$VALUES ('child'::text, '{"given": true}'::jsonb, 'sub'::text, 0)$$,
                  '_start_child_run: the child has the given input and its parent recorded; the wait points to it');
SELECT ok(pgflow_cpp._start_child_run('00000000-0000-0000-0000-00000000c001', 'parent', 'sub', 1, NULL) IS NOT NULL,
          '_start_child_run: a NULL input starts a child too');
SELECT is((SELECT r.input FROM pgflow_cpp.waits AS w JOIN pgflow.runs AS r ON r.run_id = w.child_run_id
           WHERE w.run_id = '00000000-0000-0000-0000-00000000c001' AND w.task_index = 1),
          '{"k": 2}'::jsonb, '_start_child_run: with a NULL input the child gets the task''s element (subflow_input)');
-- A child that cannot start (here a trigger refuses its run).
DELETE FROM pgflow_cpp.waits WHERE run_id = '00000000-0000-0000-0000-00000000c001' AND task_index = 1;
CREATE FUNCTION public.refuse_child_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'no children today';
END;
$$;
CREATE TRIGGER refuse_child_run BEFORE INSERT ON pgflow.runs FOR EACH ROW
WHEN (new.flow_slug = 'child') EXECUTE FUNCTION public.refuse_child_run();
SELECT is(pgflow_cpp._start_child_run('00000000-0000-0000-0000-00000000c001', 'parent', 'sub', 1, '{}'), NULL,
          '_start_child_run: NULL when the child cannot start');
SELECT results_eq($$SELECT w.child_run_id IS NULL, w.wake_at IS NOT NULL, w.start_error
                    FROM pgflow_cpp.waits AS w
                    WHERE w.run_id = '00000000-0000-0000-0000-00000000c001' AND w.task_index = 1$$,
                  $$VALUES (true, true, 'Child run of flow "child" could not start: no children today'::text)$$,
                  '_start_child_run: the wait is due at once and says why the child could not start');

-- _step_started_event(run_id, step_slug, started_at, remaining_tasks, remaining_deps),
-- _step_completed_event(run_id, step_slug, completed_at, output, output_trimmed) and
-- _run_completed_event(run_id, flow_slug, output, completed_at) and _run_started_event(run): pgflow
-- 0.8.1's payloads.
SELECT is(pgflow_cpp._step_started_event('00000000-0000-0000-0000-00000000e001', 'fetch', '2026-01-02 03:04:05+00', 3, 0),
          jsonb_build_object('event_type', 'step:started', 'run_id', '00000000-0000-0000-0000-00000000e001',
                             'step_slug', 'fetch', 'status', 'started', 'started_at', '2026-01-02 03:04:05+00'::timestamptz,
                             'remaining_tasks', 3, 'remaining_deps', 0),
          '_step_started_event: the step''s payload with its counters');
SELECT is(pgflow_cpp._step_completed_event('00000000-0000-0000-0000-00000000e001', 'fetch', '2026-01-02 03:04:05+00',
                                           '{"n": 1}', false),
          jsonb_build_object('event_type', 'step:completed', 'run_id', '00000000-0000-0000-0000-00000000e001',
                             'step_slug', 'fetch', 'status', 'completed',
                             'completed_at', '2026-01-02 03:04:05+00'::timestamptz, 'output', '{"n": 1}'::jsonb),
          '_step_completed_event: the step''s payload with its output');
SELECT is(pgflow_cpp._step_completed_event('00000000-0000-0000-0000-00000000e001', 'fetch', '2026-01-02 03:04:05+00',
                                           NULL, false) -> 'output',
          'null'::jsonb, '_step_completed_event: a NULL output is sent as null');
SELECT is(pgflow_cpp._step_completed_event('00000000-0000-0000-0000-00000000e001', 'items', '2026-01-02 03:04:05+00',
                                           NULL, true) - 'completed_at',
          jsonb_build_object('event_type', 'step:completed', 'run_id', '00000000-0000-0000-0000-00000000e001',
                             'step_slug', 'items', 'status', 'completed', 'trimmed', true),
          '_step_completed_event: a trimmed output says "trimmed" and has no output key');
SELECT is(pgflow_cpp._run_completed_event('00000000-0000-0000-0000-00000000e001', 'deps', '{"a": 1}', '2026-01-02 03:04:05+00'),
          jsonb_build_object('event_type', 'run:completed', 'run_id', '00000000-0000-0000-0000-00000000e001',
                             'flow_slug', 'deps', 'status', 'completed', 'output', '{"a": 1}'::jsonb,
                             'completed_at', '2026-01-02 03:04:05+00'::timestamptz),
          '_run_completed_event: the run''s payload');
SELECT is(pgflow_cpp._run_started_event(ROW('00000000-0000-0000-0000-00000000e001', 'deps', 'started', '{"n": 1}',
                                            NULL, 3, '2026-01-02 03:04:05+00', NULL, NULL)::pgflow.runs),
          jsonb_build_object('event_type', 'run:started', 'run_id', '00000000-0000-0000-0000-00000000e001',
                             'flow_slug', 'deps', 'input', '{"n": 1}'::jsonb, 'status', 'started',
                             'remaining_steps', 3, 'started_at', '2026-01-02 03:04:05+00'::timestamptz),
          '_run_started_event: the run''s payload');

-- _run_output(run_id): {leaf step: its output} over the completed steps nobody depends on.
SELECT pgflow.create_flow('outputs');
SELECT pgflow.add_step('outputs', 'root');
SELECT pgflow.add_step('outputs', 'items', ARRAY['root'], step_type => 'map');
SELECT pgflow.add_step('outputs', 'leaf', ARRAY['root']);
SELECT pgflow.start_flow('outputs', '{}', '00000000-0000-0000-0000-0000000f0a01');
SELECT pgflow_tests.ensure_worker('outputs');
SELECT pgflow.start_tasks('outputs', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000f0a01'),
                          pgflow_tests.worker_id());
SELECT is(pgflow_cpp._run_output('00000000-0000-0000-0000-0000000f0a01'), NULL,
          '_run_output: NULL while no leaf step has completed');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000f0a01', 'root', 0, '["x", "y"]');
SELECT pgflow.start_tasks('outputs', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                           WHERE run_id = '00000000-0000-0000-0000-0000000f0a01' AND status = 'queued'),
                          pgflow_tests.worker_id());
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000f0a01', 'items', i, to_jsonb(i)) FROM generate_series(1, 0, -1) AS i;
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000f0a01', 'leaf', 0, 'false');
SELECT is(pgflow_cpp._run_output('00000000-0000-0000-0000-0000000f0a01'), '{"items": [0, 1], "leaf": false}'::jsonb,
          '_run_output: the leaves only, a map''s outputs in task order, falsy outputs kept');

-- _queue_tasks(flow_slug, run_ids, step_slugs, task_indexes, start_delay): one message and one
-- task row per element, the n-th message id for the n-th element, visible after the delay.
SELECT pgflow.create_flow('qt');
SELECT pgflow.add_step('qt', 'a', step_type => 'map');
SELECT pgflow.add_step('qt', 'b');
INSERT INTO pgflow.runs (run_id, flow_slug, input, remaining_steps)
VALUES ('00000000-0000-0000-0000-00000000f001', 'qt', '[1, 2]', 2);
INSERT INTO pgflow.step_states (flow_slug, run_id, step_slug, remaining_deps, initial_tasks, status, started_at, remaining_tasks)
VALUES ('qt', '00000000-0000-0000-0000-00000000f001', 'a', 0, 2, 'started', now(), 2),
       ('qt', '00000000-0000-0000-0000-00000000f001', 'b', 0, 1, 'started', now(), 1);
SELECT pgflow_cpp._queue_tasks('qt', ARRAY['00000000-0000-0000-0000-00000000f001'::uuid, '00000000-0000-0000-0000-00000000f001'],
                               ARRAY['a', 'a'], ARRAY[1, 0], 0);
SELECT pgflow_cpp._queue_tasks('qt', ARRAY['00000000-0000-0000-0000-00000000f001'::uuid], ARRAY['b'], ARRAY[0], 60);
SELECT results_eq($$SELECT t.step_slug, t.task_index, t.status, q.message
                    FROM pgflow.step_tasks AS t JOIN pgmq.q_qt AS q ON q.msg_id = t.message_id
                    WHERE t.run_id = '00000000-0000-0000-0000-00000000f001' ORDER BY t.message_id$$,
                  $$VALUES ('a', 1, 'queued', '{"flow_slug": "qt", "run_id": "00000000-0000-0000-0000-00000000f001", "step_slug": "a", "task_index": 1}'::jsonb),
                           ('a', 0, 'queued', '{"flow_slug": "qt", "run_id": "00000000-0000-0000-0000-00000000f001", "step_slug": "a", "task_index": 0}'),
                           ('b', 0, 'queued', '{"flow_slug": "qt", "run_id": "00000000-0000-0000-0000-00000000f001", "step_slug": "b", "task_index": 0}')$$,
                  '_queue_tasks: one message per task, in the order given, each on its task''s row');
SELECT is((SELECT array_agg(q.vt > now() + interval '50 seconds' ORDER BY q.msg_id) FROM pgmq.q_qt AS q),
          ARRAY[false, false, true], '_queue_tasks: messages are visible after the start delay');

-- _broadcast_many(run_ids, events, payloads): what broadcast does for each element, in order. The
-- elements: a plain payload, an empty one, one too large for NOTIFY (trimmed), one of another run.
CREATE TEMP TABLE events_in (ord int, run_id uuid, event text, payload jsonb);
INSERT INTO events_in VALUES
  (1, '00000000-0000-0000-0000-0000000bc001', 'run:started', '{"event_type": "run:started", "input": {"a": 1}}'),
  (2, '00000000-0000-0000-0000-0000000bc001', 'step:a:started', '{}'),
  (3, '00000000-0000-0000-0000-0000000bc002', 'step:a:completed',
   jsonb_build_object('event_type', 'step:completed', 'output', repeat('x', 9000), 'step_slug', 'a')),
  (4, '00000000-0000-0000-0000-0000000bc001', 'run:completed', '{"output": null}');
CREATE FUNCTION pg_temp.deferred_by(set_wise boolean) RETURNS TABLE (channel text, payload text, first boolean)
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pgflow_cpp.deferred_notifications;
  PERFORM set_config('pgflow_cpp.defer_notifications', 'on', true);
  PERFORM set_config('pgflow_cpp.deferred_from', '', false);
  IF set_wise THEN
    PERFORM pgflow_cpp._broadcast_many(ARRAY(SELECT e.run_id FROM events_in AS e ORDER BY e.ord),
                                       ARRAY(SELECT e.event FROM events_in AS e ORDER BY e.ord),
                                       ARRAY(SELECT e.payload FROM events_in AS e ORDER BY e.ord));
  ELSE
    PERFORM pgflow_cpp.broadcast(e.payload, e.event, e.run_id) FROM (SELECT * FROM events_in ORDER BY ord) AS e;
  END IF;
  PERFORM set_config('pgflow_cpp.defer_notifications', 'off', true);
  RETURN QUERY SELECT d.channel, d.payload, d.id = current_setting('pgflow_cpp.deferred_from')::bigint
               FROM pgflow_cpp.deferred_notifications AS d ORDER BY d.id;
END;
$$;
CREATE TEMP TABLE one_by_one AS SELECT * FROM pg_temp.deferred_by(false);
SELECT results_eq($$SELECT * FROM pg_temp.deferred_by(true)$$, $$SELECT * FROM one_by_one$$,
                  '_broadcast_many, deferred: the rows broadcast records one event at a time, in order, from the first');
SELECT is((SELECT array_agg(payload::jsonb->>'trimmed' ORDER BY ord) FROM (SELECT row_number() OVER () AS ord, * FROM one_by_one) AS o),
          ARRAY[NULL, NULL, 'true', NULL], '_broadcast_many: the output too large for NOTIFY is trimmed');
-- At once (not deferred): a listener gets the same notifications in the same order.
SELECT dblink_connect('bm_listener', pgflow_tests.dblink_connstr());
SELECT dblink_exec('bm_listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-0000000bc001"');
SELECT dblink_exec('bm_listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-0000000bc002"');
SELECT pgflow_cpp._broadcast_many(ARRAY(SELECT e.run_id FROM events_in AS e ORDER BY e.ord),
                                  ARRAY(SELECT e.event FROM events_in AS e ORDER BY e.ord),
                                  ARRAY(SELECT e.payload FROM events_in AS e ORDER BY e.ord));
SELECT results_eq($$SELECT channel, payload FROM pgflow_tests.wait_notifications('bm_listener', 4)$$,
                  $$SELECT channel, payload FROM one_by_one$$,
                  '_broadcast_many, at once: the same notifications, NOTIFY''d in order');
SELECT dblink_disconnect('bm_listener');
-- With realtime.send: one call per event, in order.
CREATE SCHEMA realtime;
CREATE TABLE realtime.sent (id serial, payload jsonb, event text, topic text, private boolean);
CREATE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true) RETURNS void
LANGUAGE sql AS $$ INSERT INTO realtime.sent (payload, event, topic, private) VALUES (payload, event, topic, private) $$;
SELECT pgflow_cpp._broadcast_many(ARRAY(SELECT e.run_id FROM events_in AS e ORDER BY e.ord),
                                  ARRAY(SELECT e.event FROM events_in AS e ORDER BY e.ord),
                                  ARRAY(SELECT e.payload FROM events_in AS e ORDER BY e.ord));
SELECT results_eq($$SELECT payload, event, topic, private FROM realtime.sent ORDER BY id$$,
                  $$SELECT payload, event, 'pgflow:run:' || run_id, false FROM events_in ORDER BY ord$$,
                  '_broadcast_many: realtime.send gets each event as broadcast sends it, in order');
SELECT lives_ok($$SELECT pgflow_cpp._broadcast_many('{}', '{}', '{}')$$, '_broadcast_many: no events, nothing sent');
DROP SCHEMA realtime CASCADE;

SELECT * FROM finish();
