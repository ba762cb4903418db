-- pgflow_cpp.read_and_start_tasks: pgmq.read, then start_tasks on what was read, with each
-- claimed task's attempt number and the number of messages read, in one call.
SELECT plan(18);

SELECT pgflow.create_flow('rs', max_attempts => 2, timeout => 1);
SELECT pgflow.add_step('rs', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker('rs');

SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('rs', 30, 5, pgflow_tests.worker_id())), 0::bigint,
          'an empty queue gives no row');

SELECT pgflow.start_flow('rs', '[10, 20, 30]', '00000000-0000-0000-0000-0000000000e1');
CREATE TEMP TABLE got AS SELECT * FROM pgflow_cpp.read_and_start_tasks('rs', 30, 2, pgflow_tests.worker_id());
SELECT results_eq('SELECT messages, run_id, step_slug, task_index, input, attempt FROM got',
                  $$VALUES (2, '00000000-0000-0000-0000-0000000000e1'::uuid, 'items', 0, '10'::jsonb, 1),
                           (2, '00000000-0000-0000-0000-0000000000e1'::uuid, 'items', 1, '20'::jsonb, 1)$$,
                  'qty 2: the first two tasks, in message order, with their inputs, attempt 1, 2 messages read');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE status = 'started' AND last_worker_id = pgflow_tests.worker_id()),
          2::bigint, 'both are started by this worker');
SELECT ok((SELECT bool_and(vt > clock_timestamp() + interval '2 s') FROM pgmq.q_rs WHERE msg_id IN (SELECT message_id FROM pgflow.step_tasks WHERE status = 'started')),
          'their messages are hidden for timeout + 2 s, as start_tasks hides them');

DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_cpp.read_and_start_tasks('rs', 30, 5, pgflow_tests.worker_id());
SELECT results_eq('SELECT messages, task_index, attempt FROM got', $$VALUES (1, 2, 1)$$,
                  'a larger qty takes what is left: 1 message read, 1 task');

-- A timed-out task is claimed again as attempt 2.
UPDATE pgflow.step_tasks SET queued_at = queued_at - interval '10 s', started_at = started_at - interval '10 s' WHERE task_index = 0;
UPDATE pgmq.q_rs SET vt = clock_timestamp() - interval '1 s'
WHERE msg_id = (SELECT message_id FROM pgflow.step_tasks WHERE task_index = 0);
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_cpp.read_and_start_tasks('rs', 30, 5, pgflow_tests.worker_id());
SELECT results_eq('SELECT messages, task_index, attempt FROM got', $$VALUES (1, 0, 2)$$,
                  'a task past its deadline comes back as attempt 2');

-- Messages that give no task (their run failed) still report how many were read.
SELECT pgflow.start_flow('rs', '[1, 2]', '00000000-0000-0000-0000-0000000000e2');
UPDATE pgflow.runs SET status = 'failed', failed_at = now() WHERE run_id = '00000000-0000-0000-0000-0000000000e2';
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_cpp.read_and_start_tasks('rs', 30, 5, pgflow_tests.worker_id());
SELECT results_eq('SELECT messages, run_id FROM got', $$VALUES (2, NULL::uuid)$$,
                  'two messages of a failed run: one row with the count and no task');

-- A run committed after the claiming transaction began is claimed without violating
-- started_at_is_after_queued_at.
SELECT dblink_connect('other', pgflow_tests.dblink_connstr());
BEGIN;
SELECT now() IS NOT NULL AS transaction_began;
SELECT pg_sleep(0.05);
SELECT * FROM dblink('other', $$SELECT run_id FROM pgflow.start_flow('rs', '[7]', '00000000-0000-0000-0000-0000000000e3')$$)
  AS started(run_id uuid);
SELECT lives_ok($$SELECT * FROM pgflow_cpp.read_and_start_tasks('rs', 30, 5, pgflow_tests.worker_id())$$,
                'claiming a run committed after this transaction began');
SELECT ok((SELECT started_at >= queued_at FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000e3'),
          'its started_at is not before its queued_at');
COMMIT;
SELECT dblink_disconnect('other');

-- Visibility: with one timeout for every step the read already hides the messages for
-- timeout + 2 s and start_tasks' set_vt_batch is spared; with several, each message gets its
-- step's timeout + 2 s from set_vt_batch.
SELECT pgflow.create_flow('same_timeouts', timeout => 7);
SELECT pgflow.add_step('same_timeouts', 'a');
SELECT pgflow.add_step('same_timeouts', 'b');
SELECT pgflow.create_flow('mixed_timeouts', timeout => 7);
SELECT pgflow.add_step('mixed_timeouts', 'a');
SELECT pgflow.add_step('mixed_timeouts', 'b', timeout => 30);
SELECT pgflow_tests.ensure_worker('same_timeouts');
SELECT pgflow_tests.ensure_worker('mixed_timeouts');
SELECT pgflow.start_flow('same_timeouts', '{}');
SELECT pgflow.start_flow('mixed_timeouts', '{}');
SET track_functions = 'pl';
BEGIN;
SELECT * FROM pgflow_cpp.read_and_start_tasks('same_timeouts', 2, 10, pgflow_tests.worker_id());
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'pgflow.set_vt_batch(text,bigint[],integer[])'::regprocedure),
          NULL, 'one timeout for every step: no set_vt_batch call');
SELECT ok((SELECT bool_and(vt - clock_timestamp() BETWEEN interval '8 s' AND interval '9 s') FROM pgmq.q_same_timeouts),
          'the messages are hidden for timeout + 2 s (9 s) by the read itself');
COMMIT;
BEGIN;
SELECT * FROM pgflow_cpp.read_and_start_tasks('mixed_timeouts', 2, 10, pgflow_tests.worker_id());
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'pgflow.set_vt_batch(text,bigint[],integer[])'::regprocedure),
          1::bigint, 'different timeouts: set_vt_batch hides each message');
SELECT results_eq($$SELECT t.step_slug, extract(epoch FROM q.vt - clock_timestamp()) BETWEEN s.secs - 1 AND s.secs
                    FROM pgmq.q_mixed_timeouts AS q JOIN pgflow.step_tasks AS t ON t.message_id = q.msg_id AND t.flow_slug = 'mixed_timeouts'
                    JOIN (VALUES ('a', 9), ('b', 32)) AS s(step_slug, secs) ON s.step_slug = t.step_slug ORDER BY 1$$,
                  $$VALUES ('a', true), ('b', true)$$, 'for its own step''s timeout + 2 s (9 s and 32 s)');
COMMIT;
RESET track_functions;

SELECT throws_ok($$SELECT * FROM pgflow_cpp.read_and_start_tasks('no_such_flow', 30, -1, pgflow_tests.worker_id())$$,
                 '22023', 'read_and_start_tasks: qty must be 0 or more (got -1)', 'a negative qty is refused');
SELECT throws_ok($$SELECT * FROM pgflow_cpp.read_and_start_tasks('no_such_flow', 30, NULL, pgflow_tests.worker_id())$$,
                 '22023', 'read_and_start_tasks: qty must be 0 or more (got NULL)', 'and so is a NULL qty (it read without a limit)');
SELECT throws_ok($$SELECT * FROM pgflow_cpp.read_and_start_tasks('no_such_flow', 30, 5, pgflow_tests.worker_id())$$,
                 '42P01', NULL, 'an unknown queue is an error');
-- It runs as the schema owner: a queue that is not a flow's is refused before it is read.
SELECT pgmq.create('not_a_flow');
SELECT pgmq.send('not_a_flow', '{}');
SELECT throws_ok($$SELECT * FROM pgflow_cpp.read_and_start_tasks('not_a_flow', 3600, 5, pgflow_tests.worker_id())$$,
                 '42P01', 'read_and_start_tasks: "not_a_flow" is not a registered flow',
                 'a queue that is not a flow''s is an error naming it');
SELECT is((SELECT count(*) FROM pgmq.q_not_a_flow WHERE vt <= clock_timestamp() AND read_ct = 0), 1::bigint,
          'and its message is left visible and unread');

SELECT * FROM finish();
