-- pgflow.complete_tasks' set-wise path for elements that end their run (the last task of a run's
-- last step, a single step nobody depends on): the same rows, state (slots, priorities included)
-- and events (each run's, in order, with the rows' times) as complete_task one element at a time,
-- also beside a map's count-downs in the same batch; the path is taken only where nothing else can
-- be affected (not for a lone element, a run with two elements in the batch, a flow with run
-- limits, a subflow's child run, a step with dependents, a run with steps left); and a run that
-- fails while the batch waits for its row puts its element back through complete_task.
\ir fixtures/realtime_stand_in.sql
\ir fixtures/batch_equivalence.sql
SELECT plan(16);

SELECT pgflow.create_flow('cf_single');
SELECT pgflow.add_step('cf_single', 'only');
SELECT pgflow.create_flow('cf_chain');
SELECT pgflow.add_step('cf_chain', 'a');
SELECT pgflow.add_step('cf_chain', 'b', ARRAY['a']);
SELECT pgflow.create_flow('cf_two_leaves');
SELECT pgflow.add_step('cf_two_leaves', 'root');
SELECT pgflow.add_step('cf_two_leaves', 'left', ARRAY['root']);
SELECT pgflow.add_step('cf_two_leaves', 'right', ARRAY['root']);
SELECT pgflow.create_flow('cf_limited');
SELECT pgflow.add_step('cf_limited', 'only');
SELECT pgflow_cpp.set_flow_limits('cf_limited', 100);
SELECT pgflow.create_flow('cf_map');
SELECT pgflow.add_step('cf_map', 'items', step_type => 'map');
SELECT pgflow.add_step('cf_map', 'sum', ARRAY['items']);
SELECT pgflow.create_flow('cf_slotted');
SELECT pgflow.add_step('cf_slotted', 'only');
SELECT pgflow_cpp.set_step_limits('cf_slotted', 'only', 5);
SELECT pgflow_tests.ensure_worker(f)
FROM unnest(ARRAY['cf_single', 'cf_chain', 'cf_two_leaves', 'cf_limited', 'cf_map', 'cf_slotted']) AS f;

-- The batch (run k, step, task index, output), in order. Finals: runs 1, 2, 3 (chain's last
-- step), 8 (the second of two leaves), 10 and 11 (a step with a concurrency limit: their slots go).
-- Bulk: run 9's map tasks (two of three). Through complete_task: run 4 (left with a step to run
-- after it), run 5 (two elements), run 6 (run limits), run 7 (a subflow's child, as run_control
-- says).
CREATE TABLE pg_temp.elements (ord serial, k int, step_slug text, task_index int, output jsonb);
INSERT INTO pg_temp.elements (k, step_slug, task_index, output) VALUES
  (1, 'only', 0, '{"v": 1}'),
  (4, 'left', 0, '"l4"'),
  (2, 'only', 0, 'null'),
  (5, 'left', 0, '"l5"'),
  (6, 'only', 0, '6'),
  (3, 'b', 0, '[3]'),
  (5, 'right', 0, '"r5"'),
  (7, 'only', 0, '"child"'),
  (8, 'right', 0, '"r8"'),
  (9, 'items', 0, '"m0"'),
  (10, 'only', 0, '"s10"'),
  (9, 'items', 2, '"m2"'),
  (11, 'only', 0, '"s11"');

-- Starts the runs and brings each to the element's step (its own transaction, so that the batch's
-- times differ from the starts').
CREATE FUNCTION pg_temp.setup(prefix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.start_flow('cf_single', '{}', pg_temp.run(prefix, 1));
  PERFORM pgflow.start_flow('cf_single', '{}', pg_temp.run(prefix, 2));
  PERFORM pgflow.start_flow('cf_chain', '{}', pg_temp.run(prefix, 3));
  PERFORM pgflow.start_flow('cf_two_leaves', '{}', pg_temp.run(prefix, 4));
  PERFORM pgflow.start_flow('cf_two_leaves', '{}', pg_temp.run(prefix, 5));
  PERFORM pgflow.start_flow('cf_limited', '{}', pg_temp.run(prefix, 6));
  PERFORM pgflow.start_flow('cf_single', '{}', pg_temp.run(prefix, 7));
  INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, parent_run_id)
  VALUES (pg_temp.run(prefix, 7), 'cf_single', pg_temp.run(prefix, 1))
  ON CONFLICT (run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id;
  PERFORM pgflow.start_flow('cf_two_leaves', '{}', pg_temp.run(prefix, 8));
  PERFORM pgflow.start_flow('cf_map', '[1, 2, 3]', pg_temp.run(prefix, 9));
  PERFORM pgflow.start_flow('cf_slotted', '{}', pg_temp.run(prefix, 10));
  PERFORM pgflow.start_flow('cf_slotted', '{}', pg_temp.run(prefix, 11));
  PERFORM pg_temp.claim(prefix);
  PERFORM pgflow.complete_task(pg_temp.run(prefix, k), 'a', 0, '"a"') FROM unnest(ARRAY[3]) AS k;
  PERFORM pgflow.complete_task(pg_temp.run(prefix, k), 'root', 0, '"root"') FROM unnest(ARRAY[4, 5, 8]) AS k;
  PERFORM pg_temp.claim(prefix);
  PERFORM pgflow.complete_task(pg_temp.run(prefix, 8), 'left', 0, '"l8"');
END;
$$;
SELECT pg_temp.setup('aaaaaaaa');
CREATE TABLE pg_temp.one_by_one AS SELECT * FROM pg_temp.complete('aaaaaaaa', false);
SELECT pg_temp.setup('bbbbbbbb');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE run_id::text LIKE 'bbbbbbbb%'), 2::bigint,
          'runs 10 and 11 hold a slot of their step''s concurrency limit');
SET track_functions = 'pl';
BEGIN;
CREATE TABLE pg_temp.batched AS SELECT * FROM pg_temp.complete('bbbbbbbb', true);
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'complete_task'), 5::bigint,
          'the elements of runs 4, 5 (both), 6 and 7 went through complete_task, the finals and the map tasks did not');
COMMIT;
RESET track_functions;

-- 1. The same as one element at a time.
SELECT results_eq($$SELECT * FROM pg_temp.batched$$, $$SELECT * FROM pg_temp.one_by_one$$,
                  'complete_tasks returns, in input order, the rows complete_task returns one element at a time');
SELECT set_eq($$SELECT * FROM pg_temp.state('bbbbbbbb')$$, $$SELECT * FROM pg_temp.state('aaaaaaaa')$$,
              'runs, step states, tasks, queue messages and run limits end up the same');
SELECT is(pg_temp.events('bbbbbbbb'), pg_temp.events('aaaaaaaa'), 'each run''s events are the same, in the same order');

-- 2. ... and they are the expected ones.
SELECT results_eq($$SELECT pg_temp.label(run_id), status, output FROM pgflow.runs WHERE run_id::text LIKE 'bbbbbbbb%'
                    ORDER BY pg_temp.label(run_id)::int$$,
                  $$VALUES ('1', 'completed', '{"only": {"v": 1}}'::jsonb), ('2', 'completed', '{"only": null}'),
                           ('3', 'completed', '{"b": [3]}'), ('4', 'started', NULL), ('5', 'completed', '{"left": "l5", "right": "r5"}'),
                           ('6', 'completed', '{"only": 6}'), ('7', 'completed', '{"only": "child"}'),
                           ('8', 'completed', '{"left": "l8", "right": "r8"}'), ('9', 'started', NULL),
                           ('10', 'completed', '{"only": "s10"}'), ('11', 'completed', '{"only": "s11"}')$$,
                  'every run but 4 and 9 completed, with the outputs of its leaf steps');
SELECT results_eq($$SELECT status, remaining_tasks FROM pgflow.step_states WHERE run_id = pg_temp.run('bbbbbbbb', 9) AND step_slug = 'items'$$,
                  $$VALUES ('started', 1)$$, 'run 9''s map counted its two tasks off once');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE run_id::text LIKE 'bbbbbbbb%'), 0::bigint,
          'runs 10 and 11 gave their slots back');
SELECT is((SELECT ARRAY[count(*), count(*) FILTER (WHERE e.at IS DISTINCT FROM e.row_at OR e.row_at <= e.started_at)]
           FROM (SELECT (m.payload->>'completed_at')::timestamptz AS at, coalesce(ss.completed_at, r.completed_at) AS row_at,
                        r.started_at
                 FROM pg_temp.elements AS x
                 JOIN pgflow.runs AS r ON r.run_id = pg_temp.run('bbbbbbbb', x.k)
                 JOIN realtime.messages AS m
                   ON m.topic = 'pgflow:run:' || r.run_id AND m.event IN ('run:completed', 'step:' || x.step_slug || ':completed')
                 LEFT JOIN pgflow.step_states AS ss
                   ON ss.run_id = r.run_id AND ss.step_slug = x.step_slug AND m.event <> 'run:completed'
                 WHERE x.k IN (1, 2, 3, 8, 10, 11)) AS e),
          ARRAY[12, 0]::bigint[], 'each completion event of the finals carries its row''s completion time, later than the run''s start');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:' || pg_temp.run('bbbbbbbb', 8)),
          ARRAY['run:started', 'step:root:started', 'step:root:completed', 'step:left:started', 'step:right:started',
                'step:left:completed', 'step:right:completed', 'run:completed'],
          'run 8: the step''s completion, then the run''s');
SELECT is((SELECT payload - 'completed_at' FROM realtime.messages
           WHERE topic = 'pgflow:run:' || pg_temp.run('bbbbbbbb', 2) AND event = 'step:only:completed'),
          jsonb_build_object('event_type', 'step:completed', 'run_id', pg_temp.run('bbbbbbbb', 2), 'step_slug', 'only',
                             'status', 'completed', 'output', NULL),
          'step:completed carries the output, null included');
SELECT is((SELECT array_agg(pg_temp.label(substr(topic, 12)::uuid) ORDER BY id) FROM realtime.messages
           WHERE topic LIKE 'pgflow:run:bbbbbbbb%' AND event = 'run:completed'),
          ARRAY['1', '2', '3', '8', '10', '11', '6', '5', '7'],
          'the runs completed set-wise first, in batch order, then the others in the order of their last elements');

-- 3. A batch of one element is complete_task's call (the batch's statements cost more for one).
SELECT pgflow.start_flow('cf_single', '{}', '00000000-0000-0000-0000-0000000000c1');
SELECT pg_temp.claim('00000000');
SELECT is((SELECT c.statuses || '; ' || c.complete_task_calls || ' complete_task call(s)'
           FROM pgflow_tests.complete_counting(ARRAY['00000000-0000-0000-0000-0000000000c1'::uuid], ARRAY['only'],
                                               ARRAY['1'::jsonb]) AS c),
          'completed; 1 complete_task call(s)', 'a batch of one final element completes it through complete_task');

-- 4. A run that fails while the batch waits for its row (here failed by hand as a cancellation
--    would, without touching its task): its element is put back and goes through complete_task,
--    which cancels the task; the batch's other final element completes its run.
SELECT pgflow.start_flow('cf_single', '{}', '00000000-0000-0000-0000-0000000000c2');
SELECT pgflow.start_flow('cf_single', '{}', '00000000-0000-0000-0000-0000000000c3');
SELECT pg_temp.claim('00000000');
CALL pg_temp.fail_while_batch_waits('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000c3', 'only');
SELECT is((SELECT waited FROM pg_temp.race_outcome), true, 'the batch waits for the row of the run being failed');
SELECT is((SELECT statuses FROM pg_temp.race_outcome), 'completed,cancelled',
          'then completes one run''s task and cancels the failed run''s');
SELECT results_eq($$SELECT right(run_id::text, 2), status, output IS NOT NULL,
                           (SELECT count(*) FROM realtime.messages AS m
                            WHERE m.topic = 'pgflow:run:' || r.run_id AND m.event LIKE '%completed')
                    FROM pgflow.runs AS r WHERE run_id IN ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000c3')
                    ORDER BY run_id$$,
                  $$VALUES ('c2', 'completed', true, 2::bigint), ('c3', 'failed', false, 0::bigint)$$,
                  'run c2 completed with its two events, the failed run c3 has none');

SELECT * FROM finish();
