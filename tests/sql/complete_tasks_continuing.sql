-- pgflow.complete_tasks' set-wise path for elements that hand their run on to plain dependents
-- (pgflow_cpp._continue_runs: the last task of a single step whose dependents are all single
-- handler or sleep steps without conditions, in a run with other steps left; several of one run
-- when all of them are such): the same rows, state (slots, queue messages, start delays) and
-- events (each run's, in order) as complete_task one element at a time, beside elements that must
-- go through complete_task (a dependent with a condition, a map dependent, a signal dependent, a
-- run with an element that is not such, a subflow's child run); a lone continuing element goes
-- through complete_task; a run that fails while the batch waits for its row puts its element back
-- through complete_task, and so does a run whose other element turned out to be no completion.
\ir fixtures/realtime_stand_in.sql
\ir fixtures/batch_equivalence.sql
SELECT plan(19);

SELECT pgflow.create_flow('ct_chain');
SELECT pgflow.add_step('ct_chain', 'a');
SELECT pgflow.add_step('ct_chain', 'b', ARRAY['a']);
SELECT pgflow.add_step('ct_chain', 'c', ARRAY['b']);
SELECT pgflow.create_flow('ct_fan');
SELECT pgflow.add_step('ct_fan', 'root');
SELECT pgflow.add_step('ct_fan', 'right', ARRAY['root']);
SELECT pgflow.add_step('ct_fan', 'left', ARRAY['root']);
SELECT pgflow.add_step('ct_fan', 'slow', ARRAY['root'], start_delay => 30);
SELECT pgflow.create_flow('ct_diamond');
SELECT pgflow.add_step('ct_diamond', 'a');
SELECT pgflow.add_step('ct_diamond', 'b', ARRAY['a']);
SELECT pgflow.add_step('ct_diamond', 'c', ARRAY['a']);
SELECT pgflow.add_step('ct_diamond', 'd', ARRAY['b', 'c']);
SELECT pgflow.create_flow('ct_cond');
SELECT pgflow.add_step('ct_cond', 'a');
SELECT pgflow.add_step('ct_cond', 'b', ARRAY['a'], required_input_pattern => '{"a": 1}');
SELECT pgflow.create_flow('ct_map');
SELECT pgflow.add_step('ct_map', 'a');
SELECT pgflow.add_step('ct_map', 'items', ARRAY['a'], step_type => 'map');
SELECT pgflow.create_flow('ct_signal');
SELECT pgflow.add_step('ct_signal', 'a');
SELECT pgflow.add_step('ct_signal', 'approve', ARRAY['a']);
SELECT pgflow_cpp.set_step_kind('ct_signal', 'approve', 'signal');
SELECT pgflow.create_flow('ct_sleep');
SELECT pgflow.add_step('ct_sleep', 'a');
SELECT pgflow.add_step('ct_sleep', 'nap', ARRAY['a']);
SELECT pgflow_cpp.set_step_kind('ct_sleep', 'nap', 'sleep');
SELECT pgflow.create_flow('ct_slotted');
SELECT pgflow.add_step('ct_slotted', 'a');
SELECT pgflow.add_step('ct_slotted', 'b', ARRAY['a']);
SELECT pgflow_cpp.set_step_limits('ct_slotted', 'a', 5);
SELECT pgflow.create_flow('ct_limited');
SELECT pgflow.add_step('ct_limited', 'a');
SELECT pgflow.add_step('ct_limited', 'b', ARRAY['a']);
SELECT pgflow_cpp.set_flow_limits('ct_limited', 100);
SELECT pgflow_tests.ensure_worker(f)
FROM unnest(ARRAY['ct_chain', 'ct_fan', 'ct_diamond', 'ct_cond', 'ct_map', 'ct_signal', 'ct_sleep', 'ct_slotted',
                  'ct_limited']) AS f;

-- The batch (run k, step, task index, output), in order. Continuing: runs 1 (chain's a), 2 (a
-- root with three dependents, one of them delayed), 3 (a diamond's b: d still waits for c), 7 (a
-- sleep dependent), 8 (a step with a concurrency limit: its slot goes), 9 (run limits), 10 (a
-- diamond's b and c: the second starts d), 11 (chain's b). Through complete_task: run 4 (a
-- condition, met), 5 (a map dependent), 6 (a signal dependent), 12 (a subflow's child run: an
-- earlier element failing its parent would cancel it first), 13 (its a named twice: the second
-- element is no completion).
CREATE TABLE pg_temp.elements (ord serial, k int, step_slug text, task_index int, output jsonb);
INSERT INTO pg_temp.elements (k, step_slug, task_index, output) VALUES
  (1, 'a', 0, '{"v": 1}'),
  (4, 'a', 0, '1'),
  (2, 'root', 0, '"r"'),
  (10, 'b', 0, '"b10"'),
  (3, 'b', 0, 'null'),
  (5, 'a', 0, '[1, 2]'),
  (6, 'a', 0, '"six"'),
  (7, 'a', 0, '7'),
  (10, 'c', 0, '"c10"'),
  (8, 'a', 0, '"s8"'),
  (11, 'b', 0, '[11]'),
  (9, 'a', 0, '9'),
  (13, 'a', 0, '"first"'),
  (12, 'a', 0, '"child"'),
  (13, 'a', 0, '"second"');

CREATE FUNCTION pg_temp.setup(prefix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.start_flow('ct_chain', '{}', pg_temp.run(prefix, 1));
  PERFORM pgflow.start_flow('ct_fan', '{}', pg_temp.run(prefix, 2));
  PERFORM pgflow.start_flow('ct_diamond', '{}', pg_temp.run(prefix, 3));
  PERFORM pgflow.start_flow('ct_cond', '{}', pg_temp.run(prefix, 4));
  PERFORM pgflow.start_flow('ct_map', '{}', pg_temp.run(prefix, 5));
  PERFORM pgflow.start_flow('ct_signal', '{}', pg_temp.run(prefix, 6));
  PERFORM pgflow.start_flow('ct_sleep', '{}', pg_temp.run(prefix, 7));
  PERFORM pgflow.start_flow('ct_slotted', '{}', pg_temp.run(prefix, 8));
  PERFORM pgflow.start_flow('ct_limited', '{}', pg_temp.run(prefix, 9));
  PERFORM pgflow.start_flow('ct_diamond', '{}', pg_temp.run(prefix, 10));
  PERFORM pgflow.start_flow('ct_chain', '{}', pg_temp.run(prefix, 11));
  PERFORM pgflow.start_flow('ct_chain', '{}', pg_temp.run(prefix, 12));
  PERFORM pgflow.start_flow('ct_chain', '{}', pg_temp.run(prefix, 13));
  INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, parent_run_id)
  VALUES (pg_temp.run(prefix, 12), 'ct_chain', pg_temp.run(prefix, 1))
  ON CONFLICT (run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id;
  PERFORM pg_temp.claim(prefix);
  PERFORM pgflow.complete_task(pg_temp.run(prefix, k), 'a', 0, '"a"') FROM unnest(ARRAY[3, 10, 11]) AS k;
  PERFORM pg_temp.claim(prefix);
END;
$$;

SELECT pg_temp.setup('aaaaaaaa');
CREATE TABLE pg_temp.one_by_one AS SELECT * FROM pg_temp.complete('aaaaaaaa', false);
SELECT pg_temp.setup('bbbbbbbb');
SET track_functions = 'pl';
BEGIN;
CREATE TABLE pg_temp.batched AS SELECT * FROM pg_temp.complete('bbbbbbbb', true);
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'complete_task'), 6::bigint,
          'the elements of runs 4, 5, 6, 12 and 13 (both) went through complete_task, the continuing ones did not');
SELECT is(current_setting('pgflow_cpp.woken_queues'), ' ct_chain ct_diamond ct_fan ct_limited ct_sleep ct_slotted ct_cond ct_map ',
          'the queues of the steps started set-wise are noted as woken (then complete_task''s)');
COMMIT;
RESET track_functions;

-- 1. The same as one element at a time.
SELECT results_eq($$SELECT * FROM pg_temp.batched$$, $$SELECT * FROM pg_temp.one_by_one$$,
                  'complete_tasks returns, in input order, the rows complete_task returns one element at a time');
SELECT set_eq($$SELECT * FROM pg_temp.state('bbbbbbbb')$$, $$SELECT * FROM pg_temp.state('aaaaaaaa')$$,
              'runs, step states, tasks, queue messages and slots end up the same');
SELECT is(pg_temp.events('bbbbbbbb'), pg_temp.events('aaaaaaaa'), 'each run''s events are the same, in the same order');

-- 2. ... and they are the expected ones.
SELECT results_eq($$SELECT pg_temp.label(run_id), step_slug, status, remaining_deps
                    FROM pgflow.step_states WHERE run_id::text LIKE 'bbbbbbbb%' AND status <> 'completed'
                    ORDER BY pg_temp.label(run_id)::int, step_slug$$,
                  $$VALUES ('1', 'b', 'started', 0), ('1', 'c', 'created', 1), ('2', 'left', 'started', 0),
                           ('2', 'right', 'started', 0), ('2', 'slow', 'started', 0), ('3', 'c', 'started', 0),
                           ('3', 'd', 'created', 1), ('4', 'b', 'started', 0), ('5', 'items', 'started', 0),
                           ('6', 'approve', 'started', 0), ('7', 'nap', 'started', 0), ('8', 'b', 'started', 0),
                           ('9', 'b', 'started', 0), ('10', 'd', 'started', 0), ('11', 'c', 'started', 0),
                           ('12', 'b', 'started', 0), ('12', 'c', 'created', 1), ('13', 'b', 'started', 0),
                           ('13', 'c', 'created', 1)$$,
                  'the continuing steps completed and started their ready dependents; the others as complete_task left them');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:' || pg_temp.run('bbbbbbbb', 2)),
          ARRAY['run:started', 'step:root:started', 'step:root:completed', 'step:left:started', 'step:right:started',
                'step:slow:started'],
          'run 2: the step''s completion, then its dependents'' starts in slug order');
SELECT is((SELECT payload - 'started_at' FROM realtime.messages
           WHERE topic = 'pgflow:run:' || pg_temp.run('bbbbbbbb', 1) AND event = 'step:b:started'),
          jsonb_build_object('event_type', 'step:started', 'run_id', pg_temp.run('bbbbbbbb', 1), 'step_slug', 'b',
                             'status', 'started', 'remaining_tasks', 1, 'remaining_deps', 0),
          'step:started carries the step''s counters');
SELECT is((SELECT ARRAY[count(*), count(*) FILTER (WHERE ss.started_at IS DISTINCT FROM (m.payload->>'started_at')::timestamptz
                                                 OR ss.started_at < ss.created_at)]
           FROM realtime.messages AS m
           JOIN pgflow.step_states AS ss ON ss.run_id = substr(m.topic, 12)::uuid AND ss.step_slug = m.payload->>'step_slug'
           WHERE m.topic LIKE 'pgflow:run:bbbbbbbb%' AND m.event LIKE 'step:%:started'
             AND m.id > (SELECT min(x.id) FROM realtime.messages AS x
                         WHERE x.topic LIKE 'pgflow:run:bbbbbbbb%' AND x.event LIKE '%:completed')),
          ARRAY[19, 0]::bigint[], 'each step:started since the first completion carries its row''s start time');
SELECT is((SELECT array_agg(pg_temp.label(t.run_id) || ' ' || t.step_slug || ' ' || (q.vt > now() + interval '20 seconds')
                            ORDER BY pg_temp.label(t.run_id)::int, t.step_slug)
           FROM pgflow.step_tasks AS t JOIN pgmq.q_ct_fan AS q ON q.msg_id = t.message_id
           WHERE t.run_id = pg_temp.run('bbbbbbbb', 2) AND t.status = 'queued'),
          ARRAY['2 left false', '2 right false', '2 slow true'], 'the delayed dependent''s message waits its start delay');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE run_id::text LIKE 'bbbbbbbb%'), 0::bigint,
          'run 8 gave its slot back');

-- 3. A batch's only continuing element and its only final element each go through complete_task
--    (the set-wise statements cost more for one).
SELECT pgflow.start_flow('ct_chain', '{}', '00000000-0000-0000-0000-0000000000c1');
SELECT pgflow.start_flow('ct_chain', '{}', '00000000-0000-0000-0000-0000000000c0');
SELECT pg_temp.claim('00000000');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000c0', 'a', 0, '0');
SELECT pg_temp.claim('00000000');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000c0', 'b', 0, '0');
SELECT pg_temp.claim('00000000');
SELECT is((SELECT c.statuses || '; ' || c.complete_task_calls || ' complete_task call(s)'
           FROM pgflow_tests.complete_counting(ARRAY['00000000-0000-0000-0000-0000000000c1'::uuid,
                                                     '00000000-0000-0000-0000-0000000000c0'],
                                               ARRAY['a', 'c'], ARRAY['1'::jsonb, '2']) AS c),
          'completed,completed; 2 complete_task call(s)', 'a lone continuing and a lone final element complete through complete_task');

-- 4. A run that fails while the batch waits for its row (failed by hand as a cancellation would,
--    without touching its task): its element is put back and goes through complete_task, which
--    cancels the task; the batch's other element starts its run's next step.
SELECT pgflow.start_flow('ct_chain', '{}', '00000000-0000-0000-0000-0000000000c2');
SELECT pgflow.start_flow('ct_chain', '{}', '00000000-0000-0000-0000-0000000000c3');
SELECT pg_temp.claim('00000000');
CALL pg_temp.fail_while_batch_waits('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000c3', 'a');
SELECT is((SELECT waited FROM pg_temp.race_outcome), true, 'the batch waits for the row of the run being failed');
SELECT is((SELECT statuses FROM pg_temp.race_outcome), 'completed,cancelled',
          'then completes one run''s task and cancels the failed run''s');
SELECT results_eq($$SELECT right(ss.run_id::text, 2), ss.step_slug, ss.status
                    FROM pgflow.step_states AS ss
                    WHERE ss.run_id IN ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000c3')
                    ORDER BY ss.run_id, ss.step_slug$$,
                  $$VALUES ('c2', 'a', 'completed'), ('c2', 'b', 'started'), ('c2', 'c', 'created'),
                           ('c3', 'a', 'started'), ('c3', 'b', 'created'), ('c3', 'c', 'created')$$,
                  'run c2 went on to b; the failed run c3 did not');

-- 5. A run's continuing elements stay together: a diamond's b and c in one batch, and c completed
--    by another session while the batch waits for its task (so c is no longer a completion): b
--    is put back and goes through complete_task too, in batch order, not set-wise.
SELECT pgflow.start_flow('ct_diamond', '{}', '00000000-0000-0000-0000-0000000000c4');
SELECT pg_temp.claim('00000000');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000c4', 'a', 0, '"a"');
SELECT pg_temp.claim('00000000');
SELECT dblink_connect('gate', pgflow_tests.dblink_connstr());
SELECT dblink_connect('batch', pgflow_tests.dblink_connstr());
SELECT dblink_exec('gate', 'BEGIN');
SELECT * FROM dblink('gate', $$SELECT count(*) FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000c4', 'c', 0, '"gate"')$$)
  AS t(n bigint);
SELECT dblink_send_query('batch', $$SELECT statuses || '; ' || complete_task_calls
                                    FROM pgflow_tests.complete_counting(ARRAY['00000000-0000-0000-0000-0000000000c4'::uuid,
                                                                              '00000000-0000-0000-0000-0000000000c4'],
                                                                        ARRAY['b', 'c'], ARRAY['"b"'::jsonb, '"c"'])$$);
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('batch'), 1, 'the batch waits for c''s task');
SELECT dblink_exec('gate', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('batch') AS t(r text)), 'completed,completed; 2',
          'then both elements go through complete_task');
SELECT results_eq($$SELECT t.step_slug, t.status, t.output FROM pgflow.step_tasks AS t
                    WHERE t.run_id = '00000000-0000-0000-0000-0000000000c4' ORDER BY t.step_slug$$,
                  $$VALUES ('a', 'completed', '"a"'::jsonb), ('b', 'completed', '"b"'), ('c', 'completed', '"gate"'),
                           ('d', 'queued', NULL)$$,
                  'b completed by the batch, c by the other session, d started');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages
           WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000000c4' AND event LIKE 'step:%'),
          ARRAY['step:a:started', 'step:a:completed', 'step:b:started', 'step:c:started', 'step:c:completed',
                'step:b:completed', 'step:d:started'],
          'run c4''s events: c''s completion, then b''s, then d''s start');
SELECT dblink_disconnect('gate');
SELECT dblink_disconnect('batch');

SELECT * FROM finish();
