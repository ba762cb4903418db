-- pgflow_cpp._release_task_slots racing in a second and third session (dblink): two completions
-- at once each show a different refused task, neither waiting for the other; a completion does
-- not wait for a claim that holds the refused messages (it skips them, and they come back after
-- their delay); a failure and a completion at once each free their slot likewise; nothing is lost
-- and the limit holds throughout.
SELECT plan(21);

CREATE FUNCTION pg_temp.claim(flow text, qty integer DEFAULT 10)
RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow_cpp.read_and_start_tasks(flow, 30, qty, pgflow_tests.worker_id()) AS c
  WHERE c.run_id IS NOT NULL
$$;
CREATE FUNCTION pg_temp.tasks(flow text, wanted text)
RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.step_tasks AS t WHERE t.flow_slug = flow AND t.status = wanted
$$;
-- Refused tasks shown again now (their message visible), not after their delay.
CREATE FUNCTION pg_temp.shown(flow text)
RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.step_tasks AS t
  WHERE t.flow_slug = flow AND t.status = 'queued' AND pgflow_tests.visible_in(flow, t.message_id) <= 0
$$;
-- The statement that reports the n-th started task of the flow (by run id): report is
-- 'complete_task' (output 1) or 'fail_task' (error boom).
CREATE FUNCTION pg_temp.report_sql(flow text, n integer, report text DEFAULT 'complete_task')
RETURNS text LANGUAGE sql AS $$
  SELECT format($q$SELECT count(*) FROM pgflow.%s(%L, 'a', 0, %L)$q$, report, t.run_id,
                CASE report WHEN 'fail_task' THEN 'boom' ELSE '1' END)
  FROM pgflow.step_tasks AS t WHERE t.flow_slug = flow AND t.status = 'started'
  ORDER BY t.run_id OFFSET n - 1 LIMIT 1
$$;

-- Shows the refused tasks' messages again now (not those of started tasks, which a read must not see).
CREATE FUNCTION pg_temp.show_refused(flow text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('UPDATE pgmq.%I AS m SET vt = clock_timestamp() - interval ''1 second''
                  FROM pgflow.step_tasks AS t WHERE t.message_id = m.msg_id AND t.flow_slug = $1 AND t.status = ''queued''',
                 pgmq.format_table_name(flow, 'q')) USING flow;
END;
$$;
-- A flow of one step `a` limited to max_concurrency tasks at once, with `runs` runs started.
CREATE FUNCTION pg_temp.limited_flow(flow text, max_concurrency integer, runs integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.create_flow(flow);
  PERFORM pgflow.add_step(flow, 'a');
  PERFORM pgflow_tests.ensure_worker(flow);
  PERFORM pgflow_cpp.set_step_limits(flow, 'a', max_concurrency => max_concurrency);
  PERFORM pgflow.start_flow(flow, '{}') FROM generate_series(1, runs);
END;
$$;

SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());

-- 1. Two completions at once (a limit of 2, 6 runs: 2 started, 4 refused).
SELECT pg_temp.limited_flow('rr1', 2, 6);
SELECT is(pg_temp.claim('rr1'), 2::bigint, 'a limit of 2: a claim of 10 starts 2 tasks');
SELECT is(pg_temp.shown('rr1'), 0::bigint, 'the 4 refused tasks are delayed');

SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', format('DO $d$ BEGIN PERFORM (%s); END $d$', pg_temp.report_sql('rr1', 1)));
SELECT dblink_send_query('s3', pg_temp.report_sql('rr1', 2));
SELECT ok(NOT pgflow_tests.session_waits('s3'),
          'a second completion does not wait for the first (each shows a message the other does not hold)');
SELECT is((SELECT n FROM dblink_get_result('s3') AS t(n bigint)), 1::bigint, 'it completes its task');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'session 3 is done');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is(pg_temp.shown('rr1'), 2::bigint, 'two completions show two different refused tasks');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE flow_slug = 'rr1'), 0::bigint, 'both slots are freed');
SELECT is(pg_temp.claim('rr1'), 2::bigint, 'the next claim starts the two shown tasks');
SELECT is(pg_temp.tasks('rr1', 'started'), 2::bigint, 'never more than 2 started');

-- 2. A claim holding the refused messages (a limit of 1, 4 runs: 1 started, 3 refused, shown
--    again for the claim in session 2 to read and refuse once more).
SELECT pg_temp.limited_flow('rr2', 1, 4);
SELECT is(pg_temp.claim('rr2'), 1::bigint, 'a limit of 1: a claim starts 1 task');
SELECT pg_temp.show_refused('rr2');
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', format($q$DO $d$ BEGIN PERFORM count(*) FROM pgflow_cpp.read_and_start_tasks('rr2', 30, 10, %L); END $d$$q$,
                                pgflow_tests.worker_id()));
SELECT dblink_send_query('s3', pg_temp.report_sql('rr2', 1));
SELECT ok(NOT pgflow_tests.session_waits('s3'), 'a completion does not wait for a claim holding the refused messages');
SELECT is((SELECT n FROM dblink_get_result('s3') AS t(n bigint)), 1::bigint, 'it completes its task');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'session 3 is done');
SELECT dblink_exec('s2', 'COMMIT');
SELECT ok((SELECT bool_and(pgflow_tests.visible_in('rr2', t.message_id) BETWEEN 0 AND 5.1)
           FROM pgflow.step_tasks AS t WHERE t.flow_slug = 'rr2' AND t.status = 'queued')
          AND pg_temp.tasks('rr2', 'queued') = 3,
          'the claim''s refused tasks are all kept, shown again after their delay (the completion skipped them)');
SELECT pg_temp.show_refused('rr2');
SELECT is(pg_temp.claim('rr2'), 1::bigint, 'the freed slot is taken by the next claim, and only one');

-- 3. A failure (retried later) and a completion at once (a limit of 2, 6 runs: 2 started, 4 refused).
SELECT pg_temp.limited_flow('rr3', 2, 6);
SELECT is(pg_temp.claim('rr3'), 2::bigint, 'a limit of 2 again: 2 started');
SELECT pg_temp.report_sql('rr3', 2) AS complete_second \gset
SELECT dblink_exec('s2', 'BEGIN');
SELECT dblink_exec('s2', format('DO $d$ BEGIN PERFORM (%s); END $d$', pg_temp.report_sql('rr3', 1, 'fail_task')));
SELECT dblink_send_query('s3', :'complete_second');
SELECT ok(NOT pgflow_tests.session_waits('s3'), 'a completion does not wait for a failure freeing its own slot');
SELECT is((SELECT n FROM dblink_get_result('s3') AS t(n bigint)), 1::bigint, 'it completes its task');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'session 3 is done');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is(pg_temp.shown('rr3'), 2::bigint, 'the failure and the completion show two different refused tasks');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE flow_slug = 'rr3'), 0::bigint,
          'both slots are freed; the failed task, queued for its retry, holds none');

SELECT dblink_disconnect('s2');
SELECT dblink_disconnect('s3');
SELECT * FROM finish();
