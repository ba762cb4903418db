-- pgflow.complete_tasks' count-downs (a map's tasks that do not complete their step, completed
-- set-wise before the elements that go through complete_task) keep batch order where an earlier
-- element can fail a run: a dependent's condition that fails its run (when_unmet 'fail') fails
-- the run of map tasks later in the batch, and a subflow child's completion that fails its parent
-- (a type violation there) cancels the parent's other child runs, whose map tasks come later.
-- Either way complete_task one element at a time finds those tasks cancelled; the batch must too.
-- Count-downs before such an element, and those of runs nothing in the batch can reach, stay bulk.
\ir fixtures/realtime_stand_in.sql
\ir fixtures/batch_equivalence.sql
SELECT plan(7);

-- A run that a condition fails: x's completion makes y ready, whose condition is unmet.
SELECT pgflow.create_flow('bo_cond');
SELECT pgflow.add_step('bo_cond', 'items', step_type => 'map');
SELECT pgflow.add_step('bo_cond', 'x');
SELECT pgflow.add_step('bo_cond', 'y', ARRAY['x'], required_input_pattern => '{"x": "go"}', when_unmet => 'fail');
-- A parent whose single step 'kid' sizes a map (a string output is a type violation), and child runs.
SELECT pgflow.create_flow('bo_parent');
SELECT pgflow.add_step('bo_parent', 'kid');
SELECT pgflow.add_step('bo_parent', 'each', ARRAY['kid'], step_type => 'map');
SELECT pgflow.create_flow('bo_child');
SELECT pgflow.add_step('bo_child', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker(f) FROM unnest(ARRAY['bo_cond', 'bo_parent', 'bo_child']) AS f;

-- The batch, in order: run 1's map task 0 (before x: stays a count-down), x (its condition fails
-- run 1), run 1's map task 1 (after it: cancelled); run 2's map task 0 (a run nothing reaches: a
-- count-down); run 5's map task 0 (a child of run 3, before run 3 fails: a count-down); run 3's kid
-- with a string (a type violation: run 3 fails and cancels its children, runs 4 and 5); run 4's
-- map task 0 (cancelled).
CREATE TABLE pg_temp.elements (ord serial, k int, step_slug text, task_index int, output jsonb);
INSERT INTO pg_temp.elements (k, step_slug, task_index, output) VALUES
  (1, 'items', 0, '"i0"'),
  (1, 'x', 0, '"stop"'),
  (1, 'items', 1, '"i1"'),
  (2, 'items', 0, '"i0"'),
  (5, 'items', 0, '"i0"'),
  (3, 'kid', 0, '"not an array"'),
  (4, 'items', 0, '"i0"');

CREATE FUNCTION pg_temp.setup(prefix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.start_flow('bo_cond', '[1, 2, 3]', pg_temp.run(prefix, 1));
  PERFORM pgflow.start_flow('bo_cond', '[1, 2, 3]', pg_temp.run(prefix, 2));
  PERFORM pgflow.start_flow('bo_parent', '{}', pg_temp.run(prefix, 3));
  PERFORM pgflow.start_flow('bo_child', '[1, 2, 3]', pg_temp.run(prefix, k)) FROM unnest(ARRAY[4, 5]) AS k;
  -- Runs 4 and 5 are run 3's children, as a subflow step's would be (linked by hand).
  INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, parent_run_id)
  SELECT pg_temp.run(prefix, k), 'bo_child', pg_temp.run(prefix, 3) FROM unnest(ARRAY[4, 5]) AS k
  ON CONFLICT (run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id;
  PERFORM pg_temp.claim(prefix);
END;
$$;

SELECT pg_temp.setup('aaaaaaaa');
CREATE TABLE pg_temp.one_by_one AS SELECT * FROM pg_temp.complete('aaaaaaaa', false);
SELECT pg_temp.setup('bbbbbbbb');
CREATE TABLE pg_temp.batched AS SELECT * FROM pg_temp.complete('bbbbbbbb', true);

SELECT results_eq($$SELECT * FROM pg_temp.batched$$, $$SELECT * FROM pg_temp.one_by_one$$,
                  'complete_tasks returns, in input order, the rows complete_task returns one element at a time');
SELECT set_eq($$SELECT * FROM pg_temp.state('bbbbbbbb')$$, $$SELECT * FROM pg_temp.state('aaaaaaaa')$$,
              'runs, step states, tasks and queue messages end up the same');
SELECT is(pg_temp.events('bbbbbbbb'), pg_temp.events('aaaaaaaa'), 'each run''s events are the same, in the same order');
SELECT results_eq($$SELECT pg_temp.label(run_id), status FROM pgflow.runs WHERE run_id::text LIKE 'bbbbbbbb%'
                    ORDER BY pg_temp.label(run_id)::int$$,
                  $$VALUES ('1', 'failed'), ('2', 'started'), ('3', 'failed'), ('4', 'failed'), ('5', 'failed')$$,
                  'the condition failed run 1; the type violation failed run 3, which cancelled runs 4 and 5');
SELECT results_eq($$SELECT label, status FROM pg_temp.batched WHERE step_slug = 'items' ORDER BY label, task_index$$,
                  $$VALUES ('1', 'completed'), ('1', 'cancelled'), ('2', 'completed'), ('4', 'cancelled'), ('5', 'completed')$$,
                  'map tasks before the element that failed their run completed; those after it were cancelled');
SELECT is((SELECT remaining_tasks FROM pgflow.step_states WHERE run_id = pg_temp.run('bbbbbbbb', 2) AND step_slug = 'items'),
          2, 'run 2''s map task counted down');

-- Which elements went through complete_task: x, run 1's task after it, kid, run 4's task.
SELECT pg_temp.setup('cccccccc');
SELECT is((SELECT complete_task_calls FROM pgflow_tests.complete_counting(
             ARRAY(SELECT pg_temp.run('cccccccc', x.k) FROM pg_temp.elements AS x ORDER BY x.ord),
             ARRAY(SELECT x.step_slug FROM pg_temp.elements AS x ORDER BY x.ord),
             ARRAY(SELECT x.output FROM pg_temp.elements AS x ORDER BY x.ord),
             ARRAY(SELECT x.task_index FROM pg_temp.elements AS x ORDER BY x.ord))),
          4::bigint, 'the elements that can fail a run and those after them in the runs they reach went through complete_task');

SELECT * FROM finish();
