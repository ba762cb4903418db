-- A single step feeding a map must produce an array; otherwise complete_task fails the task, the
-- step and the run with pgflow's [TYPE_VIOLATION] messages, archives the run's messages and
-- returns the failed task row (no exception; pgflow 0.14, 0.8.1 returned an empty set).
SELECT plan(25);

SELECT pgflow.create_flow('typed');
SELECT pgflow.add_step('typed', 'producer');
SELECT pgflow.add_step('typed', 'sibling');
SELECT pgflow.add_step('typed', 'consumer', ARRAY['producer'], step_type => 'map');
SELECT pgflow_tests.ensure_worker('typed');

CREATE TEMP TABLE outcome (run uuid, produced jsonb, typeof text, returned bigint);
DO $$
DECLARE
  bad jsonb;
  run uuid;
  n bigint;
BEGIN
  FOREACH bad IN ARRAY ARRAY['{"not": "array"}', '"string"', '42', 'true', 'null', NULL]::jsonb[] LOOP
    SELECT r.run_id INTO run FROM pgflow.start_flow('typed', '{}') AS r;
    PERFORM pgflow.start_tasks('typed', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = run),
                               pgflow_tests.worker_id());
    SELECT count(*) INTO n FROM pgflow.complete_task(run, 'producer', 0, bad);
    INSERT INTO outcome VALUES (run, bad, coalesce(jsonb_typeof(bad), 'null'), n);
  END LOOP;
END
$$;

SELECT is((SELECT sum(returned) FROM outcome), 6::numeric, 'complete_task returns one row on a type violation');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE status = 'failed' AND failed_at IS NOT NULL), 6::bigint,
          'every run with a non-array output failed');
SELECT is((SELECT count(*) FROM outcome o JOIN pgflow.step_tasks t ON t.run_id = o.run AND t.step_slug = 'producer'
           WHERE t.error_message = '[TYPE_VIOLATION] Produced ' || o.typeof || ' instead of array'),
          6::bigint, 'each producer task names the type it produced');
SELECT set_eq($$SELECT error_message FROM pgflow.step_tasks WHERE step_slug = 'producer'$$,
              $$VALUES ('[TYPE_VIOLATION] Produced object instead of array'), ('[TYPE_VIOLATION] Produced string instead of array'),
                       ('[TYPE_VIOLATION] Produced number instead of array'), ('[TYPE_VIOLATION] Produced boolean instead of array'),
                       ('[TYPE_VIOLATION] Produced null instead of array')$$,
              'task error: [TYPE_VIOLATION] Produced <type> instead of array (SQL NULL and JSON null both say null)');
SELECT set_eq($$SELECT error_message FROM pgflow.step_states WHERE step_slug = 'producer'$$,
              $$VALUES ('[TYPE_VIOLATION] Map step consumer expects array input but dependency producer produced object'),
                       ('[TYPE_VIOLATION] Map step consumer expects array input but dependency producer produced string'),
                       ('[TYPE_VIOLATION] Map step consumer expects array input but dependency producer produced number'),
                       ('[TYPE_VIOLATION] Map step consumer expects array input but dependency producer produced boolean'),
                       ('[TYPE_VIOLATION] Map step consumer expects array input but dependency producer produced null')$$,
              'step error: [TYPE_VIOLATION] Map step <map> expects array input but dependency <step> produced <type>');
SELECT is((SELECT count(*) FROM pgflow.step_states WHERE step_slug = 'producer' AND status = 'failed' AND failed_at IS NOT NULL),
          6::bigint, 'the producing step failed');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE step_slug = 'producer' AND status = 'failed' AND failed_at IS NOT NULL),
          6::bigint, 'the producing task failed');
SELECT is((SELECT count(*) FROM outcome o JOIN pgflow.step_tasks t ON t.run_id = o.run AND t.step_slug = 'producer'
           WHERE t.output IS NOT DISTINCT FROM o.produced),
          6::bigint, 'the offending output is stored on the task');
SELECT is((SELECT count(*) FROM pgflow.step_states WHERE step_slug = 'consumer' AND initial_tasks IS NULL AND status = 'created'),
          6::bigint, 'the map stays unsized and created');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE step_slug = 'sibling' AND status = 'cancelled'), 6::bigint,
          'other active tasks of the run are cancelled (pgflow 0.15.1)');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('typed')), 0::bigint,
          'every queued or started message of the failed runs is archived');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE remaining_steps = 3), 6::bigint, 'remaining_steps is not reduced');

-- An array output passes, including an empty one.
SELECT pgflow.start_flow('typed', '{}', '00000000-0000-0000-0000-0000000000e1');
SELECT pgflow.start_tasks('typed', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000e1'),
                          pgflow_tests.worker_id());
SELECT is((SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e1', 'producer', 0, '[]')), 'completed',
          'an empty array is a valid map input');
SELECT results_eq($$SELECT status, initial_tasks, remaining_tasks FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000000e1' AND step_slug = 'consumer'$$,
                  $$VALUES ('completed'::text, 0, 0)$$, 'and the map over it completes at once without tasks');

-- Only a started task's output can violate: a call naming a task index that does not exist, or a
-- task that is queued (not claimed), changes nothing (pgflow 0.8.1 failed the
-- run, cancelling the real task: a stray call killed someone else's run). Through complete_tasks too.
SELECT pgflow.start_flow('typed', '{}', '00000000-0000-0000-0000-0000000000e3');
SELECT is((SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e3', 'producer', 0, '1')), 'queued',
          'a queued task''s non-array output leaves it queued (its row is returned as it is)');
SELECT pgflow.start_tasks('typed', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000e3'),
                          pgflow_tests.worker_id());
SELECT is((SELECT count(*) FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e3', 'producer', 5, '1'))
          + (SELECT count(*) FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e3', 'producer', -1, '1')),
          0::bigint, 'a task index that does not exist returns nothing');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(ARRAY['00000000-0000-0000-0000-0000000000e3']::uuid[], ARRAY['producer'],
                                                      ARRAY[7], ARRAY['1'::jsonb])), 0::bigint,
          'nor through complete_tasks');
SELECT results_eq($$SELECT r.status, (SELECT t.status FROM pgflow.step_tasks AS t WHERE t.run_id = r.run_id AND t.step_slug = 'producer')
                    FROM pgflow.runs AS r WHERE r.run_id = '00000000-0000-0000-0000-0000000000e3'$$,
                  $$VALUES ('started'::text, 'started'::text)$$,
                  'the run goes on and its real task is still started');
SELECT is((SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e3', 'producer', 0, '[1]')), 'completed',
          'the real task then completes');
SELECT is((SELECT initial_tasks FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000e3' AND step_slug = 'consumer'),
          1, 'and sizes the map');

-- A map step's own output is an array by construction: a map after a map never violates.
SELECT pgflow.create_flow('mapmap');
SELECT pgflow.add_step('mapmap', 'm1', step_type => 'map');
SELECT pgflow.add_step('mapmap', 'm2', ARRAY['m1'], step_type => 'map');
SELECT pgflow.start_flow('mapmap', '[1]', '00000000-0000-0000-0000-0000000000e2');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '{"object": "output"}') FROM pgflow_tests.read_and_start('mapmap') t;
SELECT results_eq($$SELECT step_slug, status, initial_tasks FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000e2' ORDER BY 1$$,
                  $$VALUES ('m1'::text, 'completed'::text, 1), ('m2', 'started', 1)$$,
                  'a map task may return any JSON value; the dependent map is sized by the task count');
SELECT is((SELECT input FROM pgflow_tests.read_and_start('mapmap')), '{"object": "output"}'::jsonb,
          'and gets that value as its element');

-- Two sessions: a non-array output for a task another session is completing with an array waits
-- for that session's lock on the task; once it commits, the task is no longer started and the late
-- call changes nothing (before, it failed the run the other session had just advanced).
SELECT pgflow.start_flow('typed', '{}', '00000000-0000-0000-0000-0000000000e4');
SELECT pgflow.start_tasks('typed', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000e4'),
                          pgflow_tests.worker_id());
SELECT dblink_connect('gate', pgflow_tests.dblink_connstr());
SELECT dblink_connect('late', pgflow_tests.dblink_connstr());
SELECT dblink_exec('gate', 'BEGIN');
SELECT * FROM dblink('gate', $$SELECT count(*) FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e4', 'producer', 0, '[1, 2]')$$)
  AS r(n bigint);
SELECT dblink_send_query('late', $$SELECT status FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000e4', 'producer', 0, '"late"')$$);
SELECT ok(pgflow_tests.session_waits('late'), 'the late non-array completion waits for the task');
SELECT dblink_exec('gate', 'COMMIT');
SELECT is((SELECT status FROM dblink_get_result('late') AS r(status text)), 'completed',
          'and then returns the task as the other session completed it');
SELECT * FROM dblink_get_result('late') AS r(status text);
SELECT results_eq($$SELECT r.status, t.output, c.initial_tasks
                    FROM pgflow.runs AS r
                    JOIN pgflow.step_tasks AS t ON t.run_id = r.run_id AND t.step_slug = 'producer'
                    JOIN pgflow.step_states AS c ON c.run_id = r.run_id AND c.step_slug = 'consumer'
                    WHERE r.run_id = '00000000-0000-0000-0000-0000000000e4'$$,
                  $$VALUES ('started'::text, '[1, 2]'::jsonb, 2)$$,
                  'the run goes on with the array output, and the map is sized by it');
SELECT dblink_disconnect('gate');
SELECT dblink_disconnect('late');

SELECT * FROM finish();
