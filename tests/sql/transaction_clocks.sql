-- Timestamps against rows written by other transactions. now() is the start of the calling
-- transaction; under READ COMMITTED each statement still sees rows that other sessions committed
-- after that start. Every timestamp a function sets must then still satisfy the table's ordering
-- CHECKs (started_at_is_after_queued_at, completed_at_is_after_started_at, ...): here this
-- session opens its transaction first, a second session (dblink) starts runs, claims tasks or
-- completes steps and commits, and only then does this session's transaction act on those rows.
SELECT plan(29);

SELECT dblink_connect('other', pgflow_tests.dblink_connstr());
SELECT dblink_connect('listener', pgflow_tests.dblink_connstr());
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c003"');
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c005"');
-- Runs PL/pgSQL statements in the other session (autocommit: committed on return).
CREATE FUNCTION pg_temp.other(statements text) RETURNS void LANGUAGE sql AS $$
  SELECT dblink_exec('other', format('DO %L', 'BEGIN ' || statements || '; END'));
$$;
-- Claims (in the other session) every visible task of a flow.
CREATE FUNCTION pg_temp.other_claims(flow text) RETURNS void LANGUAGE sql AS $$
  SELECT pg_temp.other(format(
    'PERFORM pgflow.start_tasks(%L, ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = %L AND status = %L), %L)',
    flow, flow, 'queued', pgflow_tests.worker_id()));
$$;

SELECT pgflow.create_flow('clock_chain');
SELECT pgflow.add_step('clock_chain', 'first');
SELECT pgflow.add_step('clock_chain', 'second', ARRAY['first']);
SELECT pgflow.create_flow('clock_once', max_attempts => 1);
SELECT pgflow.add_step('clock_once', 'only');
SELECT pgflow.create_flow('clock_pair', max_attempts => 1);
SELECT pgflow.add_step('clock_pair', 'a');
SELECT pgflow.add_step('clock_pair', 'b');
SELECT pgflow.create_flow('clock_list');
SELECT pgflow.add_step('clock_list', 'list');
SELECT pgflow.add_step('clock_list', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('clock_list', 'after', ARRAY['each']);
SELECT pgflow_tests.ensure_worker(f) FROM unnest(ARRAY['clock_chain', 'clock_once', 'clock_pair', 'clock_list']) AS f;

-- 1. start_tasks claims a task queued after the claiming transaction began.
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other($$PERFORM pgflow.start_flow('clock_chain', '{"n": 1}', '00000000-0000-0000-0000-00000000c001')$$);
SELECT ok((SELECT queued_at > now() FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000c001'),
          'the task was queued after this transaction began');
SELECT lives_ok($$SELECT * FROM pgflow.start_tasks('clock_chain',
                    ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000c001'),
                    pgflow_tests.worker_id())$$,
                'start_tasks claims it');
SELECT results_eq($$SELECT status, started_at = queued_at FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000c001'$$,
                  $$VALUES ('started', true)$$,
                  'the task is started, at its queued_at (not before)');
COMMIT;

-- 2. complete_task of a task claimed (and a step and run started) after this transaction began;
--    the completion starts the next step, created after this transaction began too.
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other($$PERFORM pgflow.start_flow('clock_chain', '{"n": 2}', '00000000-0000-0000-0000-00000000c002')$$);
SELECT pg_temp.other_claims('clock_chain');
SELECT lives_ok($$SELECT * FROM pgflow.complete_task('00000000-0000-0000-0000-00000000c002', 'first', 0, '"one"')$$,
                'complete_task completes the first step');
SELECT results_eq($$SELECT status, completed_at = started_at FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-00000000c002' AND step_slug = 'first'$$,
                  $$VALUES ('completed', true)$$,
                  'the task completes at its started_at (not before)');
SELECT results_eq($$SELECT step_slug, status, coalesce(completed_at, started_at) >= created_at FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000c002' ORDER BY step_slug$$,
                  $$VALUES ('first', 'completed', true), ('second', 'started', true)$$,
                  'the first step completes, the second starts, neither before its row was created');
COMMIT;
-- ... and the last step, claimed by the other session, completes the run started there.
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other_claims('clock_chain');
SELECT pg_temp.other($$UPDATE pgflow.runs SET started_at = clock_timestamp() WHERE run_id = '00000000-0000-0000-0000-00000000c002'$$);
SELECT lives_ok($$SELECT * FROM pgflow.complete_task('00000000-0000-0000-0000-00000000c002', 'second', 0, '"two"')$$,
                'complete_task completes the last step');
SELECT results_eq($$SELECT status, completed_at = started_at, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000c002'$$,
                  $$VALUES ('completed', true, '{"second": "two"}'::jsonb)$$,
                  'the run completes, at its started_at (not before)');
SELECT results_eq($$SELECT status, completed_at >= started_at FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000c002' AND step_slug = 'second'$$,
                  $$VALUES ('completed', true)$$,
                  'the last step completes after it started');
COMMIT;

-- 3. fail_task: a permanent failure of a task, step and run that began after this transaction.
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other($$PERFORM pgflow.start_flow('clock_once', '{}', '00000000-0000-0000-0000-00000000c003')$$);
SELECT pg_temp.other_claims('clock_once');
SELECT lives_ok($$SELECT * FROM pgflow.fail_task('00000000-0000-0000-0000-00000000c003', 'only', 0, 'boom')$$,
                'fail_task fails the task for good');
SELECT results_eq($$SELECT status, failed_at = started_at FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000c003'$$,
                  $$VALUES ('failed', true)$$, 'the task fails at its started_at (not before)');
SELECT results_eq($$SELECT status, failed_at >= started_at FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-00000000c003'$$,
                  $$VALUES ('failed', true)$$, 'the step fails after it started');
SELECT results_eq($$SELECT status, failed_at >= started_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000c003'$$,
                  $$VALUES ('failed', true)$$, 'the run fails after it started');
COMMIT;
SELECT results_eq(
  $$SELECT n.payload::jsonb->>'event', (n.payload::jsonb->>'failed_at')::timestamptz
    FROM pgflow_tests.wait_notifications('listener', 4) AS n
    WHERE n.channel = 'pgflow:run:00000000-0000-0000-0000-00000000c003' AND n.payload::jsonb->>'event' LIKE '%failed'
    ORDER BY n.seq$$,
  $$SELECT 'step:only:failed', failed_at FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-00000000c003'
    UNION ALL SELECT 'run:failed', failed_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000c003'$$,
  'the step:failed and run:failed events carry the stored failed_at');

-- 4. fail_task on a run that another session failed meanwhile (the failed-run guard).
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other($$PERFORM pgflow.start_flow('clock_pair', '{}', '00000000-0000-0000-0000-00000000c004')$$);
SELECT pg_temp.other_claims('clock_pair');
SELECT pg_temp.other($$PERFORM pgflow.fail_task('00000000-0000-0000-0000-00000000c004', 'a', 0, 'a failed')$$);
SELECT lives_ok($$SELECT * FROM pgflow.fail_task('00000000-0000-0000-0000-00000000c004', 'b', 0, 'b failed')$$,
                'fail_task of the other task of the failed run');
SELECT results_eq($$SELECT status, failed_at = started_at FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-00000000c004' AND step_slug = 'b'$$,
                  $$VALUES ('cancelled', NULL::boolean)$$,
                  'that task was cancelled when the other session failed the run (pgflow 0.15.1), and stays so');
COMMIT;

-- 5. A type violation in a run started after this transaction began.
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other($$PERFORM pgflow.start_flow('clock_list', '{}', '00000000-0000-0000-0000-00000000c005')$$);
SELECT pg_temp.other_claims('clock_list');
SELECT lives_ok($$SELECT * FROM pgflow.complete_task('00000000-0000-0000-0000-00000000c005', 'list', 0, '{"not": "an array"}')$$,
                'complete_task with a non-array output for the map');
SELECT results_eq($$SELECT status, failed_at = started_at FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000c005'$$,
                  $$VALUES ('failed', true)$$, 'the task fails at its started_at (not before)');
SELECT results_eq($$SELECT status, failed_at >= started_at FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000c005' AND step_slug = 'list'$$,
                  $$VALUES ('failed', true)$$, 'the step fails after it started');
SELECT results_eq($$SELECT status, failed_at >= started_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000c005'$$,
                  $$VALUES ('failed', true)$$, 'the run fails after it started');
COMMIT;
SELECT results_eq(
  $$SELECT n.payload::jsonb->>'event', (n.payload::jsonb->>'failed_at')::timestamptz
    FROM pgflow_tests.wait_notifications('listener', 4) AS n
    WHERE n.channel = 'pgflow:run:00000000-0000-0000-0000-00000000c005' AND n.payload::jsonb->>'event' LIKE '%failed'
    ORDER BY n.seq$$,
  $$SELECT 'run:failed', failed_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000c005'
    UNION ALL SELECT 'step:list:failed', failed_at FROM pgflow.step_states
              WHERE run_id = '00000000-0000-0000-0000-00000000c005' AND step_slug = 'list'$$,
  'the run:failed and step:failed events carry the stored failed_at');

-- 6. An empty array for the map: the completion cascades through steps created after this
--    transaction began (the empty map completes without tasks, the step after it starts).
BEGIN;
SELECT pg_sleep(0.02);
SELECT pg_temp.other($$PERFORM pgflow.start_flow('clock_list', '{}', '00000000-0000-0000-0000-00000000c006')$$);
SELECT pg_temp.other_claims('clock_list');
SELECT lives_ok($$SELECT * FROM pgflow.complete_task('00000000-0000-0000-0000-00000000c006', 'list', 0, '[]')$$,
                'complete_task with an empty array');
SELECT results_eq($$SELECT step_slug, status, started_at >= created_at, coalesce(completed_at >= started_at, true)
                    FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-00000000c006' ORDER BY step_slug$$,
                  $$VALUES ('after', 'started', true, true), ('each', 'completed', true, true), ('list', 'completed', true, true)$$,
                  'the cascade completes the empty map and starts the next step, none before its row was created');
COMMIT;

-- 7. Nothing in the tables breaks the ordering CHECKs (they would have raised), and the times a
--    transaction stamped are never earlier than what it was ordered after.
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE started_at < queued_at OR completed_at < started_at OR failed_at < started_at),
          0::bigint, 'step_tasks: every task started after it was queued, finished after it started');
SELECT is((SELECT count(*) FROM pgflow.step_states WHERE started_at < created_at OR completed_at < started_at OR failed_at < started_at),
          0::bigint, 'step_states: every step started after it was created, finished after it started');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE completed_at < started_at OR failed_at < started_at),
          0::bigint, 'runs: every run finished after it started');

-- 8. Unchanged where no other transaction is involved: the timestamps are the transaction's now().
BEGIN;
SELECT pgflow.start_flow('clock_chain', '{"n": 9}', '00000000-0000-0000-0000-00000000c009');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('clock_chain', 30, 10)), 1::bigint, 'a claim in the same transaction');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000c009', 'first', 0, '"one"');
SELECT results_eq($$SELECT queued_at = now(), started_at = now(), completed_at = now() FROM pgflow.step_tasks
                    WHERE run_id = '00000000-0000-0000-0000-00000000c009' AND step_slug = 'first'$$,
                  $$VALUES (true, true, true)$$, 'queued, started and completed at now()');
SELECT results_eq($$SELECT step_slug, started_at = now() FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000c009' ORDER BY step_slug$$,
                  $$VALUES ('first', true), ('second', true)$$, 'steps started at now()');
COMMIT;

SELECT dblink_disconnect('other');
SELECT dblink_disconnect('listener');
SELECT * FROM finish();
