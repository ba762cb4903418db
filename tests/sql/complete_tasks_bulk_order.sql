-- pgflow.complete_tasks' count-downs (a map's tasks that do not complete their step, completed
-- set-wise before the elements that go through complete_task) keep batch order where an earlier
-- element can fail a run: a dependent's condition that fails its run (when_unmet 'fail'), also one
-- reached through an empty map, fails the run of map tasks later in the batch, and an element
-- failing a parent run (a type violation) cancels its child runs, whose map tasks come later.
-- Either way complete_task one element at a time finds those tasks cancelled; the batch must too.
-- Count-downs before such an element, and those of runs nothing in the batch can reach, stay bulk.
-- A count-down that turns out to complete its step (another session completed the step's other
-- tasks while the batch waited for the step) and fails the run comes before the run's later ones.
\ir fixtures/realtime_stand_in.sql
\ir fixtures/batch_equivalence.sql
SELECT plan(28);

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
-- A run that a condition further on fails: x's [] leaves the map m empty, and y's condition is unmet.
SELECT pgflow.create_flow('bo_empty');
SELECT pgflow.add_step('bo_empty', 'items', step_type => 'map');
SELECT pgflow.add_step('bo_empty', 'x');
SELECT pgflow.add_step('bo_empty', 'm', ARRAY['x'], step_type => 'map');
SELECT pgflow.add_step('bo_empty', 'y', ARRAY['m'], forbidden_input_pattern => '{"m": []}', when_unmet => 'fail');
SELECT pgflow_tests.ensure_worker(f) FROM unnest(ARRAY['bo_cond', 'bo_parent', 'bo_child', 'bo_empty']) AS f;

-- The batch, in order: run 1's map task 0 (before x: stays a count-down), x (its condition fails
-- run 1), run 1's map task 1 (after it: cancelled); run 2's map task 0 (a run nothing reaches: a
-- count-down); run 5's map task 0 (a child of run 3, before run 3 fails: a count-down); run 3's kid
-- with a string (a type violation: run 3 fails and cancels its children, runs 4 and 5); run 4's
-- map task 0 (cancelled); run 6's x with [] (its condition further on fails run 6), then its map
-- task 0 (cancelled).
CREATE TABLE pg_temp.elements (ord serial, k int, step_slug text, task_index int, output jsonb);
INSERT INTO pg_temp.elements (k, step_slug, task_index, output) VALUES
  (1, 'items', 0, '"i0"'),
  (1, 'x', 0, '"stop"'),
  (1, 'items', 1, '"i1"'),
  (2, 'items', 0, '"i0"'),
  (5, 'items', 0, '"i0"'),
  (3, 'kid', 0, '"not an array"'),
  (4, 'items', 0, '"i0"'),
  (6, 'x', 0, '[]'),
  (6, 'items', 0, '"i0"');

CREATE FUNCTION pg_temp.setup(prefix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.start_flow('bo_cond', '[1, 2, 3]', pg_temp.run(prefix, 1));
  PERFORM pgflow.start_flow('bo_cond', '[1, 2, 3]', pg_temp.run(prefix, 2));
  PERFORM pgflow.start_flow('bo_parent', '{}', pg_temp.run(prefix, 3));
  PERFORM pgflow.start_flow('bo_child', '[1, 2, 3]', pg_temp.run(prefix, k)) FROM unnest(ARRAY[4, 5]) AS k;
  PERFORM pgflow.start_flow('bo_empty', '[1, 2, 3]', pg_temp.run(prefix, 6));
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
                  $$VALUES ('1', 'failed'), ('2', 'started'), ('3', 'failed'), ('4', 'failed'), ('5', 'failed'), ('6', 'failed')$$,
                  'the condition failed run 1; the type violation failed run 3, which cancelled runs 4 and 5; y failed run 6');
SELECT results_eq($$SELECT label, status FROM pg_temp.batched WHERE step_slug = 'items' ORDER BY label, task_index$$,
                  $$VALUES ('1', 'completed'), ('1', 'cancelled'), ('2', 'completed'), ('4', 'cancelled'), ('5', 'completed'),
                           ('6', 'cancelled')$$,
                  'map tasks before the element that failed their run completed; those after it were cancelled');
SELECT is((SELECT remaining_tasks FROM pgflow.step_states WHERE run_id = pg_temp.run('bbbbbbbb', 2) AND step_slug = 'items'),
          2, 'run 2''s map task counted down');

-- Which elements went through complete_task: x, run 1's task after it, kid, run 4's task, run 6's two.
SELECT pg_temp.setup('cccccccc');
SELECT is((SELECT complete_task_calls FROM pgflow_tests.complete_counting(
             ARRAY(SELECT pg_temp.run('cccccccc', x.k) FROM pg_temp.elements AS x ORDER BY x.ord),
             ARRAY(SELECT x.step_slug FROM pg_temp.elements AS x ORDER BY x.ord),
             ARRAY(SELECT x.output FROM pg_temp.elements AS x ORDER BY x.ord),
             ARRAY(SELECT x.task_index FROM pg_temp.elements AS x ORDER BY x.ord))),
          6::bigint, 'the elements that can fail a run and those after them in the runs they reach went through complete_task');

-- A count-down put back under the lock. Run 7's map 'items' has a dependent whose condition fails
-- the run; its task 1 is completed, so the batch (items 0, then the root map 'other' task 0) reads
-- items 0 as a count-down. While it waits for the step, another session completes items 2 and
-- commits: items 0 then completes the step, and the run fails before other 0, which is cancelled
-- (as complete_task one element at a time after that session's completion would leave it).
SELECT pgflow.create_flow('bo_race');
SELECT pgflow.add_step('bo_race', 'items', step_type => 'map');
SELECT pgflow.add_step('bo_race', 'other', step_type => 'map');
SELECT pgflow.add_step('bo_race', 'y', ARRAY['items'], required_input_pattern => '{"items": ["never"]}',
                       when_unmet => 'fail');
SELECT pgflow_tests.ensure_worker('bo_race');
-- The text result of a dblink session's query sent with dblink_send_query, or 'ERROR <message>'.
CREATE FUNCTION pg_temp.result_of(conn text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text;
BEGIN
  SELECT r INTO got FROM dblink_get_result(conn) AS t(r text);
  PERFORM * FROM dblink_get_result(conn) AS t(r text);
  RETURN got;
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERROR ' || SQLERRM;
END;
$$;
-- The races below: session 'holder' completes items tasks (held_run, held_indexes) in an open
-- transaction; session 'batch' sends complete_tasks over elements (runs, steps, indexes) and
-- waits for the holder; the holder commits. Returns the batch's rows, 'step index status' each.
CREATE FUNCTION pg_temp.race(held_run uuid, held_indexes int[], runs uuid[], steps text[], indexes int[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  got text;
  waited boolean;
BEGIN
  PERFORM dblink_connect('holder', pgflow_tests.dblink_connstr());
  PERFORM dblink_connect('batch', pgflow_tests.dblink_connstr());
  PERFORM dblink_exec('holder', 'BEGIN');
  PERFORM * FROM dblink('holder', format('SELECT count(*) FROM unnest(%L::int[]) AS i, '
                                         'LATERAL pgflow.complete_task(%L, ''items'', i, ''"held"'') AS t',
                                         held_indexes, held_run)) AS t(n bigint);
  PERFORM dblink_send_query('batch', format(
    $q$SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ' ORDER BY step_slug, task_index)
       FROM pgflow.complete_tasks(%L::uuid[], %L::text[], %L::int[], array_fill('"b"'::jsonb, ARRAY[%s]))$q$,
    runs, steps, indexes, cardinality(runs)));
  waited := pgflow_tests.waits_for_lock('%complete_tasks%');
  PERFORM dblink_exec('holder', 'COMMIT');
  got := pg_temp.result_of('batch');
  PERFORM dblink_disconnect('holder');
  PERFORM dblink_disconnect('batch');
  RETURN CASE WHEN waited THEN got ELSE 'the batch did not wait' END;
END;
$$;
SELECT pgflow.start_flow('bo_race', '[1, 2, 3]', pg_temp.run('dddddddd', 7));
SELECT pg_temp.claim('dddddddd');
SELECT pgflow.complete_task(pg_temp.run('dddddddd', 7), 'items', 1, '"i1"');
SELECT is(pg_temp.race(pg_temp.run('dddddddd', 7), '{2}', array_fill(pg_temp.run('dddddddd', 7), ARRAY[2]),
                       '{items,other}', '{0,0}'),
          'items 0 completed, other 0 cancelled',
          'items 0 completed the step and failed the run: other 0, after it, was cancelled');
SELECT results_eq($$SELECT status FROM pgflow.runs WHERE run_id = pg_temp.run('dddddddd', 7)$$, $$VALUES ('failed')$$,
                  'run 7 failed on y''s condition');

-- A step whose completion may fail the run keeps its own count-downs set-wise (the one put back
-- under the lock, should the step complete, is the last of them): ten of run 8's twelve items,
-- then its 'other' task, take one complete_task call ('other', after the first count-down).
SELECT pgflow.start_flow('bo_race', '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]', pg_temp.run('eeeeeeee', 8));
SELECT pg_temp.claim('eeeeeeee');
SELECT is((SELECT c.statuses || ' / ' || c.complete_task_calls
           FROM pgflow_tests.complete_counting(array_fill(pg_temp.run('eeeeeeee', 8), ARRAY[11]),
                                               array_fill('items'::text, ARRAY[10]) || 'other'::text,
                                               array_fill('"i"'::jsonb, ARRAY[11]),
                                               ARRAY(SELECT generate_series(0, 9)) || 0) AS c),
          'completed,completed,completed,completed,completed,completed,completed,completed,completed,completed,completed / 1',
          'ten count-downs of a map with a failing condition after it: set-wise, the element after the last one alone');
SELECT results_eq($$SELECT status, remaining_tasks FROM pgflow.step_states
                    WHERE run_id = pg_temp.run('eeeeeeee', 8) AND step_slug = 'items'$$,
                  $$VALUES ('started', 2)$$, 'two items left');

-- A later count-down's task completed by another session while the batch waits: run 9's items 3
-- is done; the batch has items 0, other 0, items 1; the other session completes items 1 and 2 and
-- commits while the batch waits for items 1. Items 0 now completes the step and fails the run, so
-- other 0, after it, is cancelled; items 1 comes back as the other session left it.
SELECT pgflow.start_flow('bo_race', '[1, 2, 3, 4]', pg_temp.run('ffffffff', 9));
SELECT pg_temp.claim('ffffffff');
SELECT pgflow.complete_task(pg_temp.run('ffffffff', 9), 'items', 3, '"i3"');
SELECT is(pg_temp.race(pg_temp.run('ffffffff', 9), '{1,2}', array_fill(pg_temp.run('ffffffff', 9), ARRAY[3]),
                       '{items,other,items}', '{0,0,1}'),
          'items 0 completed, items 1 completed, other 0 cancelled',
          'items 0 completed the step and failed the run: other 0, after it, was cancelled');
SELECT results_eq($$SELECT status, (SELECT output FROM pgflow.step_tasks WHERE run_id = r.run_id AND step_slug = 'items' AND task_index = 1)
                    FROM pgflow.runs AS r WHERE run_id = pg_temp.run('ffffffff', 9)$$,
                  $$VALUES ('failed', '"held"'::jsonb)$$, 'run 9 failed on y''s condition; items 1 kept the other session''s output');

-- The step's last element is not a count-down (it completes the step, read without the lock):
-- run 10's items 0 (a count-down), other 0, items 1. The other session completes items 1 while
-- the batch waits: items 0 completes the step and fails the run, so other 0 is cancelled.
SELECT pgflow.start_flow('bo_race', '[1, 2]', pg_temp.run('abababab', 10));
SELECT pg_temp.claim('abababab');
SELECT is(pg_temp.race(pg_temp.run('abababab', 10), '{1}', array_fill(pg_temp.run('abababab', 10), ARRAY[3]),
                       '{items,other,items}', '{0,0,1}'),
          'items 0 completed, items 1 completed, other 0 cancelled',
          'the step''s first count-down completed it: the run''s element after it was cancelled');

-- A child run's count-down between its parent's count-downs: run 12 is run 11's child. The other
-- session completes the parent's items 1 and 2 while the batch waits: items 0 completes the step
-- and fails run 11, which cancels run 12, whose other 0 is cancelled.
SELECT pgflow.start_flow('bo_race', '[1, 2, 3]', pg_temp.run('acacacac', k)) FROM unnest(ARRAY[11, 12]) AS k;
INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, parent_run_id)
VALUES (pg_temp.run('acacacac', 12), 'bo_race', pg_temp.run('acacacac', 11))
ON CONFLICT (run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id;
SELECT pg_temp.claim('acacacac');
SELECT is(pg_temp.race(pg_temp.run('acacacac', 11), '{1,2}',
                       ARRAY[pg_temp.run('acacacac', 11), pg_temp.run('acacacac', 12), pg_temp.run('acacacac', 11)],
                       '{items,other,items}', '{0,0,1}'),
          'items 0 completed, items 1 completed, other 0 cancelled',
          'a child run''s count-down after its parent''s first one was cancelled with the child');
SELECT results_eq($$SELECT status FROM pgflow.runs WHERE run_id::text LIKE 'acacacac%' ORDER BY run_id$$,
                  $$VALUES ('failed'), ('failed')$$, 'the parent failed on y''s condition, and the child with it');

-- A condition reached through a skipped step: items' dependent d is skipped (its condition is
-- unmet), which makes e ready, whose condition fails the run. No other session: the batch is
-- items 0, items 1 (which completes the step) and other 0, as one element at a time.
SELECT pgflow.create_flow('bo_skip');
SELECT pgflow.add_step('bo_skip', 'items', step_type => 'map');
SELECT pgflow.add_step('bo_skip', 'other', step_type => 'map');
SELECT pgflow.add_step('bo_skip', 'd', ARRAY['items'], required_input_pattern => '{"items": ["never"]}', when_unmet => 'skip');
SELECT pgflow.add_step('bo_skip', 'e', ARRAY['d'], required_input_pattern => '{"d": "x"}', when_unmet => 'fail');
SELECT pgflow_tests.ensure_worker('bo_skip');
SELECT pgflow.start_flow('bo_skip', '[1, 2]', pg_temp.run('adadadad', 13));
SELECT pg_temp.claim('adadadad');
SELECT is((SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ' ORDER BY step_slug, task_index)
           FROM pgflow.complete_tasks(array_fill(pg_temp.run('adadadad', 13), ARRAY[3]), '{items,items,other}', '{0,1,0}',
                                      '{"\"a\"","\"b\"","\"c\""}')),
          'items 0 completed, items 1 completed, other 0 cancelled',
          'a skip that reaches a failing condition fails the run before other 0, which is cancelled');

-- A count-down whose task left 'started' between the batch's first reading and its set-wise
-- update, and was claimed again: run 14's batch is items 0, other 0, items 1, padded with 30,000
-- elements naming no run so that its first reading takes a while. Session 'holder' retries items 0
-- (back to queued) and completes items 2, and commits while the batch reads; the batch skips items
-- 0, completes items 1 set-wise and waits for other's step, which session 'third' holds;
-- meanwhile a worker claims items 0 again. items 0 then goes through complete_task, and so must
-- items 1 after it (put back): in batch order, other 0 is counted before items 1 completes the
-- step and fails the run. (Should the holder's commit come after the batch's update began, the
-- update waits for items 0 and keeps it locked: the claim cannot take it, and items 0 stays
-- queued, as one element at a time would find it; the test expects that outcome then.)
SELECT pgflow.create_flow('bo_retry', max_attempts => 3, base_delay => 0);
SELECT pgflow.add_step('bo_retry', 'items', step_type => 'map');
SELECT pgflow.add_step('bo_retry', 'other', step_type => 'map');
SELECT pgflow.add_step('bo_retry', 'y', ARRAY['items'], required_input_pattern => '{"items": ["never"]}', when_unmet => 'fail');
SELECT pgflow_tests.ensure_worker('bo_retry');
SELECT pgflow.start_flow('bo_retry', '[1, 2, 3]', pg_temp.run('aeaeaeae', 14));
SELECT pg_temp.claim('aeaeaeae');
SELECT dblink_connect(c, pgflow_tests.dblink_connstr()) FROM unnest(ARRAY['holder', 'third', 'batch']) AS c;
CREATE TEMP TABLE pids AS
SELECT (SELECT p FROM dblink('third', 'SELECT pg_backend_pid()') AS t(p int)) AS third,
       (SELECT p FROM dblink('batch', 'SELECT pg_backend_pid()') AS t(p int)) AS batch;
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', format($q$SELECT (SELECT count(*) FROM pgflow.fail_task(%L, 'items', 0, 'retry')) +
                                               (SELECT count(*) FROM pgflow.complete_task(%L, 'items', 2, '"held"'))$q$,
                                      pg_temp.run('aeaeaeae', 14), pg_temp.run('aeaeaeae', 14))) AS t(n bigint);
SELECT dblink_exec('third', 'BEGIN');
SELECT * FROM dblink('third', format($q$SELECT count(*) FROM pgflow.complete_task(%L, 'other', 1, '"third"')$q$,
                                     pg_temp.run('aeaeaeae', 14))) AS t(n bigint);
SELECT dblink_send_query('batch', format(
  $q$SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ' ORDER BY step_slug, task_index)
     FROM pgflow.complete_tasks(array_fill(%L::uuid, ARRAY[3]) || array_fill(NULL::uuid, ARRAY[30000]),
                                '{items,other,items}'::text[] || array_fill('none'::text, ARRAY[30000]),
                                '{0,0,1}'::int[] || array_fill(0, ARRAY[30000]),
                                array_fill('"b"'::jsonb, ARRAY[30003]))$q$,
  pg_temp.run('aeaeaeae', 14)));
SELECT pg_sleep(0.1);
SELECT dblink_exec('holder', 'COMMIT');
CREATE FUNCTION pg_temp.blocked_by_third() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. 500 LOOP
    IF (SELECT third FROM pids) = ANY (pg_blocking_pids((SELECT batch FROM pids))) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.02);
  END LOOP;
  RETURN false;
END;
$$;
SELECT ok(pg_temp.blocked_by_third(), 'the batch waits for other''s step, held by the third session');
-- The worker's claim of items 0, in a session of its own: 'claimed', or 'held by the batch'.
SELECT dblink_connect('worker', pgflow_tests.dblink_connstr());
CREATE TEMP TABLE claim AS
SELECT * FROM dblink('worker', format($q$
  DO $d$ BEGIN
    SET LOCAL lock_timeout = '1s';
    PERFORM pgflow.start_tasks('bo_retry', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                 WHERE run_id = %L AND step_slug = 'items' AND task_index = 0),
                               %L);
    RAISE NOTICE 'claimed';
  EXCEPTION WHEN lock_not_available THEN NULL;
  END $d$;
  SELECT CASE WHEN (SELECT status FROM pgflow.step_tasks WHERE run_id = %L AND step_slug = 'items' AND task_index = 0)
                   = 'started' THEN 'claimed' ELSE 'held by the batch' END$q$,
  pg_temp.run('aeaeaeae', 14), pgflow_tests.worker_id(), pg_temp.run('aeaeaeae', 14))) AS t(outcome text);
SELECT dblink_exec('third', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('batch') AS t(r text)),
          CASE (SELECT outcome FROM claim)
            WHEN 'claimed' THEN 'items 0 completed, items 1 completed, other 0 completed'
            ELSE 'items 0 queued, items 1 completed, other 0 completed' END,
          'items 0 and items 1 went through complete_task in batch order (the claim: ' || (SELECT outcome FROM claim) || ')');
SELECT is((SELECT count(*) FROM dblink_get_result('batch') AS t(r text)), 0::bigint, 'the batch is done');
SELECT results_eq($$SELECT r.status, ss.remaining_tasks FROM pgflow.runs AS r
                    JOIN pgflow.step_states AS ss ON ss.run_id = r.run_id AND ss.step_slug = 'other'
                    WHERE r.run_id = pg_temp.run('aeaeaeae', 14)$$,
                  $$SELECT CASE (SELECT outcome FROM claim) WHEN 'claimed' THEN 'failed' ELSE 'started' END, 1$$,
                  'other 0 and 1 were counted; the run failed on y''s condition only when items 0 ran again');
SELECT dblink_disconnect(c) FROM unnest(ARRAY['holder', 'third', 'batch', 'worker']) AS c;

-- A duplicate completion of an element that goes through complete_task, by another session while
-- the batch waits: run 15's batch is items 0 (a count-down), other 0 and items 1 (both through
-- complete_task). Session 'holder' holds the run's row, so the batch waits for it; session 'other'
-- then completes items 1 itself. complete_task locks the task, then its step: the batch locks
-- items 1 before the steps, so 'other' waits for the batch instead of holding items 1 while
-- waiting for a step the batch holds (a deadlock, one side's call failed with 40P01).
SELECT pgflow.start_flow('bo_race', '[1, 2]', pg_temp.run('afafafaf', 15));
SELECT pg_temp.claim('afafafaf');
SELECT dblink_connect(c, pgflow_tests.dblink_connstr()) FROM unnest(ARRAY['holder', 'batch', 'other']) AS c;
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', format('SELECT 1 FROM pgflow.runs WHERE run_id = %L FOR NO KEY UPDATE',
                                      pg_temp.run('afafafaf', 15))) AS t(x int);
SELECT dblink_send_query('batch', format(
  $q$SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ' ORDER BY step_slug, task_index)
     FROM pgflow.complete_tasks(array_fill(%L::uuid, ARRAY[3]), '{items,other,items}', '{0,0,1}',
                                array_fill('"b"'::jsonb, ARRAY[3]))$q$,
  pg_temp.run('afafafaf', 15)));
SELECT ok(pgflow_tests.waits_for_lock('%complete_tasks%'), 'the batch waits for the run''s row');
SELECT dblink_send_query('other', format($q$SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ')
                                            FROM pgflow.complete_task(%L, 'items', 1, '"other"')$q$,
                                         pg_temp.run('afafafaf', 15)));
SELECT pgflow_tests.waits_for_lock('%complete_task(%');
SELECT dblink_exec('holder', 'COMMIT');
SELECT is('batch: ' || pg_temp.result_of('batch') || ' | other: ' || pg_temp.result_of('other'),
          'batch: items 0 completed, items 1 completed, other 0 completed | other: items 1 completed',
          'the duplicate completion waited for the batch and changed nothing; neither call failed');
SELECT results_eq($$SELECT r.status, t.output FROM pgflow.runs AS r
                    JOIN pgflow.step_tasks AS t ON t.run_id = r.run_id AND t.step_slug = 'items' AND t.task_index = 1
                    WHERE r.run_id = pg_temp.run('afafafaf', 15)$$,
                  $$VALUES ('failed', '"b"'::jsonb)$$, 'items 1 kept the batch''s output; y''s condition failed the run');
SELECT dblink_disconnect(c) FROM unnest(ARRAY['holder', 'batch', 'other']) AS c;

-- A batch naming a queued task (a stale report) does not lock it, as complete_task does not:
-- run 17's items 1 is a count-down (completed set-wise), items 0 is queued. Session 'holder' holds
-- items 1's message, so the batch waits at its archive holding items 1; cancel_run then locks the
-- run's active tasks in key order: items 0, then items 1 (waiting for the batch). Had the batch
-- locked items 0 too, one of the two would fail with 40P01.
SELECT pgflow.start_flow('bo_race', '[1, 2, 3]', pg_temp.run('a2a2a2a2', 17));
SELECT pgflow.start_tasks('bo_race', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                           WHERE run_id = pg_temp.run('a2a2a2a2', 17) AND step_slug = 'items'
                                             AND task_index = 1),
                          pgflow_tests.worker_id());
SELECT dblink_connect(c, pgflow_tests.dblink_connstr()) FROM unnest(ARRAY['holder', 'batch', 'canceller']) AS c;
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', format('SELECT msg_id FROM pgmq.q_bo_race WHERE msg_id = %s FOR UPDATE',
                                      (SELECT message_id FROM pgflow.step_tasks
                                       WHERE run_id = pg_temp.run('a2a2a2a2', 17) AND step_slug = 'items'
                                         AND task_index = 1))) AS t(x bigint);
SELECT dblink_send_query('batch', format(
  $q$SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ' ORDER BY step_slug, task_index)
     FROM pgflow.complete_tasks(array_fill(%L::uuid, ARRAY[2]), '{items,items}', '{1,0}', '{"\"late 1\"","\"late 0\""}')$q$,
  pg_temp.run('a2a2a2a2', 17)));
SELECT ok(pgflow_tests.waits_for_lock('%complete_tasks%'), 'the batch waits for items 1''s message');
SELECT dblink_send_query('canceller', format('SELECT pgflow_cpp.cancel_run(%L)::text', pg_temp.run('a2a2a2a2', 17)));
SELECT pgflow_tests.waits_for_lock('%cancel_run%');
SELECT dblink_exec('holder', 'COMMIT');
SELECT is('batch: ' || pg_temp.result_of('batch') || ' | cancel: ' || pg_temp.result_of('canceller'),
          'batch: items 0 queued, items 1 completed | cancel: true',
          'the batch left the queued task alone; cancel_run waited for the batch; neither call failed');
SELECT dblink_disconnect(c) FROM unnest(ARRAY['holder', 'batch', 'canceller']) AS c;

-- The row returned for an element is what complete_task returned for it, even when a later
-- element changes the task: run 16's items 0 is queued (not claimed), and x's [] leaves the map m
-- empty, whose dependent's condition then fails the run and cancels items 0.
SELECT pgflow.start_flow('bo_empty', '[1, 2]', pg_temp.run('a1a1a1a1', 16));
SELECT pgflow.start_tasks('bo_empty', ARRAY(SELECT message_id FROM pgflow.step_tasks
                                            WHERE run_id = pg_temp.run('a1a1a1a1', 16) AND step_slug = 'x'),
                          pgflow_tests.worker_id());
SELECT is((SELECT string_agg(step_slug || ' ' || task_index || ' ' || status, ', ')
           FROM pgflow.complete_tasks(array_fill(pg_temp.run('a1a1a1a1', 16), ARRAY[2]), '{items,x}', '{0,0}',
                                      '{"\"i\"","[]"}')),
          'items 0 queued, x 0 completed',
          'a queued task''s row is returned as complete_task returned it (queued), before x failed the run');
SELECT results_eq($$SELECT r.status, t.status FROM pgflow.runs AS r
                    JOIN pgflow.step_tasks AS t ON t.run_id = r.run_id AND t.step_slug = 'items' AND t.task_index = 0
                    WHERE r.run_id = pg_temp.run('a1a1a1a1', 16)$$,
                  $$VALUES ('failed', 'cancelled')$$, 'x''s [] failed the run and cancelled items 0');

SELECT * FROM finish();
