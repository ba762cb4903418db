-- Races of waits, in second and third sessions (dblink): wake_due_waits in two sessions at once
-- handles each wait once; a signal racing a timeout (either first) and a signal racing a signal:
-- exactly one wins, the other finds the result; a child run's completion racing its parent's
-- cancellation: neither deadlocks, the parent ends cancelled and no wait is left.
SELECT plan(28);

SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());

-- 1. wake_due_waits in two sessions at once: each wait handled once.
SELECT pgflow.create_flow('wr');
SELECT pgflow.add_step('wr', 'sig', max_attempts => 2, base_delay => 0);
SELECT pgflow_cpp.set_step_kind('wr', 'sig', 'signal', 60);
SELECT pgflow.start_flow('wr', '{}', ('00000000-0000-0000-0000-0000000e000' || i)::uuid) FROM generate_series(1, 6) AS i;
UPDATE pgflow_cpp.waits SET wake_at = now() - interval '1 second';
SELECT dblink_exec('s2', 'BEGIN');
SELECT is((SELECT n FROM dblink('s2', 'SELECT pgflow_cpp.wake_due_waits(2)') AS t(n integer)), 2, 'session 2 takes two waits (open)');
SELECT dblink_send_query('s3', 'SELECT pgflow_cpp.wake_due_waits()');
SELECT ok(NOT pgflow_tests.session_waits('s3'), 'session 3 does not wait for them');
SELECT is((SELECT n FROM dblink_get_result('s3') AS t(n integer)), 4, 'it handles the other four');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(n integer)), 0::bigint, 'session 3 is done');
SELECT dblink_exec('s2', 'COMMIT');
SELECT results_eq($$SELECT count(*), min(attempts_count), max(attempts_count), bool_and(status = 'queued')
                    FROM pgflow.step_tasks WHERE flow_slug = 'wr'$$,
                  $$VALUES (6::bigint, 1, 1, true)$$, 'each timeout was handled once: one failed attempt per task');
SELECT is(pgflow_cpp.wake_due_waits(), 0, 'nothing is left due (each has a new wait)');

-- 2. A timeout (session 2, open) first; a signal waits for it, then finds the step failed.
SELECT pgflow.create_flow('wr1');
SELECT pgflow.add_step('wr1', 'sig', max_attempts => 1);
SELECT pgflow_cpp.set_step_kind('wr1', 'sig', 'signal', 60);
SELECT pgflow.start_flow('wr1', '{}', '00000000-0000-0000-0000-0000000e0101');
UPDATE pgflow_cpp.waits SET wake_at = now() - interval '1 second' WHERE run_id = '00000000-0000-0000-0000-0000000e0101';
SELECT dblink_exec('s2', 'BEGIN');
SELECT is((SELECT n FROM dblink('s2', 'SELECT pgflow_cpp.wake_due_waits()') AS t(n integer)), 1, 'session 2 times the signal out (open)');
SELECT dblink_send_query('s3', $$SELECT pgflow_tests.try_sql('SELECT pgflow_cpp.signal(''00000000-0000-0000-0000-0000000e0101'', ''sig'', ''1'')')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'a signal waits for the timeout in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('s3') AS t(r text)),
          '55000: Signal "sig" of run 00000000-0000-0000-0000-0000000e0101 is not waiting: the run is failed',
          'then is refused: the timeout won');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(r text)), 0::bigint, 'session 3 is done');
SELECT results_eq($$SELECT status, attempts_count, output FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000e0101'$$,
                  $$VALUES ('failed'::text, 1, NULL::jsonb)$$, 'the task failed once, without the signal''s value');

-- 3. A signal (session 2, open) first; wake_due_waits skips the wait, and later finds nothing.
SELECT pgflow.start_flow('wr1', '{}', '00000000-0000-0000-0000-0000000e0102');
UPDATE pgflow_cpp.waits SET wake_at = now() - interval '1 second' WHERE run_id = '00000000-0000-0000-0000-0000000e0102';
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow_cpp.signal('00000000-0000-0000-0000-0000000e0102', 'sig', '"yes"'); END $d$$q$);
SELECT is(pgflow_cpp.wake_due_waits(), 0, 'a timeout of the wait being signalled is skipped');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is(pgflow_cpp.wake_due_waits(), 0, 'and after the signal there is nothing left to time out');
SELECT results_eq($$SELECT r.status, t.status, t.output FROM pgflow.runs AS r JOIN pgflow.step_tasks AS t USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-0000000e0102'$$,
                  $$VALUES ('completed'::text, 'completed'::text, '"yes"'::jsonb)$$, 'the signal won');

-- 4. Two signals: the second waits, then is refused.
SELECT pgflow.start_flow('wr1', '{}', '00000000-0000-0000-0000-0000000e0103');
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow_cpp.signal('00000000-0000-0000-0000-0000000e0103', 'sig', '"first"'); END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT pgflow_tests.try_sql('SELECT pgflow_cpp.signal(''00000000-0000-0000-0000-0000000e0103'', ''sig'', ''"second"'')')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'a second signal waits for the first');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('s3') AS t(r text)),
          '55000: Signal "sig" of run 00000000-0000-0000-0000-0000000e0103 is not waiting: the run is completed',
          'then is refused');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(r text)), 0::bigint, 'session 3 is done');
SELECT is((SELECT output FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000e0103'), '"first"'::jsonb, 'the first value stays');

-- 5. A child run's completion (session 2, open) racing its parent's cancellation.
SELECT pgflow.create_flow('wkid');
SELECT pgflow.add_step('wkid', 'work');
SELECT pgflow.create_flow('wmom');
SELECT pgflow.add_step('wmom', 'sub');
SELECT pgflow_cpp.set_step_kind('wmom', 'sub', 'subflow', child_flow_slug => 'wkid');
SELECT pgflow_tests.ensure_worker('wkid');
SELECT pgflow.start_flow('wmom', '{}', '00000000-0000-0000-0000-0000000e0201');
SELECT count(*) FROM pgflow_tests.read_and_start('wkid', 30, 10);
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', $q$DO $d$ BEGIN PERFORM pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"kid"')
                               FROM pgflow.step_tasks AS t WHERE t.flow_slug = 'wkid' AND t.status = 'started'; END $d$$q$);
SELECT dblink_send_query('s3', $$SELECT pgflow_tests.try_sql('SELECT pgflow_cpp.cancel_run(''00000000-0000-0000-0000-0000000e0201'')')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'the parent''s cancel waits for the child''s completion in flight');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('s3') AS t(r text)), 'ok', 'then cancels the parent (no deadlock)');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(r text)), 0::bigint, 'session 3 is done');
SELECT is(pgflow_cpp.wake_due_waits(), 0, 'the parent''s wait went with the cancellation');
SELECT results_eq($$SELECT s.status FROM pgflow.runs AS r CROSS JOIN LATERAL pgflow_cpp.run_status(r.run_id) AS s
                    WHERE r.flow_slug IN ('wmom', 'wkid') ORDER BY r.flow_slug$$,
                  $$VALUES ('completed'::text), ('cancelled')$$, 'the child completed, the parent is cancelled');
-- 6. wake_due_waits completing a parent's task from its child (session 2, open) racing the
--    parent's cancellation: the cancel waits, then cancels the rest; the completion counts.
SELECT pgflow.add_step('wmom', 'other');
SELECT pgflow.start_flow('wmom', '{}', '00000000-0000-0000-0000-0000000e0202');
SELECT count(*) FROM pgflow_tests.read_and_start('wkid', 30, 10) AS t, LATERAL pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"kid2"') AS c;
SELECT dblink_exec('s2', 'BEGIN');
SELECT is((SELECT n FROM dblink('s2', 'SELECT pgflow_cpp.wake_due_waits()') AS t(n integer)), 1, 'session 2 completes the parent''s task (open)');
SELECT dblink_send_query('s3', $$SELECT pgflow_tests.try_sql('SELECT pgflow_cpp.cancel_run(''00000000-0000-0000-0000-0000000e0202'')')$$);
SELECT ok(pgflow_tests.session_waits('s3'), 'the parent''s cancel waits for it');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('s3') AS t(r text)), 'ok', 'then cancels the parent');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(r text)), 0::bigint, 'session 3 is done');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-0000000e0202'), ARRAY['other0:cancelled', 'sub0:completed'],
          'the subflow task completed, the other task is cancelled');
SELECT * FROM finish();
