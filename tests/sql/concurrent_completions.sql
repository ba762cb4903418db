-- Completions in two sessions at once never deadlock, whatever order their batches name the tasks
-- in: pgflow.complete_tasks and pgflow.complete_task lock in one global order (sql/README.md,
-- difference 10). Diamonds (a -> b, c -> d): session 1 completes run 1's b and run 2's c, session
-- 2 run 2's b and run 1's c, so each needs the other's d. A third session holds one run's d to
-- pause session 1 half-way, which made the old lock order deadlock every time; then many runs
-- completed in crossed batches without a pause. In flow cc, d has a condition (always met), so
-- that every completion of b and c goes through complete_task; in flow cp it has none, and
-- complete_tasks completes b and c set-wise (pgflow_cpp._continue_runs): a batch then waits for
-- the gate before it holds any run, and the other batch goes by.
SELECT plan(18);

SELECT pgflow.create_flow('cc');
SELECT pgflow.add_step('cc', 'a');
SELECT pgflow.add_step('cc', 'b', ARRAY['a']);
SELECT pgflow.add_step('cc', 'c', ARRAY['a']);
SELECT pgflow.add_step('cc', 'd', ARRAY['b', 'c'], required_input_pattern => '{}');
SELECT pgflow_tests.ensure_worker('cc');
SELECT pgflow.create_flow('cp');
SELECT pgflow.add_step('cp', 'a');
SELECT pgflow.add_step('cp', 'b', ARRAY['a']);
SELECT pgflow.add_step('cp', 'c', ARRAY['a']);
SELECT pgflow.add_step('cp', 'd', ARRAY['b', 'c']);
SELECT pgflow_tests.ensure_worker('cp');

CREATE FUNCTION pg_temp.run(k int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT ('00000000-0000-0000-0000-' || lpad(k::text, 12, '0'))::uuid
$$;
-- Starts runs k = first .. last of the flow, completes their a, and claims their b and c.
CREATE FUNCTION pg_temp.diamonds(first int, last int, flow text DEFAULT 'cc') RETURNS void LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
  PERFORM pgflow.start_flow(flow, '{}', pg_temp.run(k)) FROM generate_series(first, last) AS k;
  FOR t IN SELECT * FROM pgflow_tests.read_and_start(flow, 30, 1000) LOOP
    PERFORM pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"a"');
  END LOOP;
  PERFORM pgflow_tests.read_and_start(flow, 30, 1000);
END;
$$;
-- The SQL text of a complete_tasks call for (run k, step) pairs, in the given order.
CREATE FUNCTION pg_temp.batch(ks int[], steps text[]) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*) FROM pgflow.complete_tasks(%L::uuid[], %L::text[], %L::int[], %L::jsonb[])',
                ARRAY(SELECT pg_temp.run(k) FROM unnest(ks) AS k), steps, array_fill(0, ARRAY[cardinality(ks)]),
                array_fill('"x"'::jsonb, ARRAY[cardinality(ks)]))
$$;
-- The error of a dblink session's finished query ('' when it succeeded), after its result.
CREATE FUNCTION pg_temp.outcome(conn text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE err text;
BEGIN
  PERFORM * FROM dblink_get_result(conn, false) AS r(n bigint);
  err := dblink_error_message(conn);
  PERFORM * FROM dblink_get_result(conn, false) AS r(n bigint);
  RETURN CASE WHEN err = 'OK' THEN '' ELSE err END;
END;
$$;
-- Each run's step states as 'b c d' statuses, and the run's status.
CREATE FUNCTION pg_temp.states(first int, last int) RETURNS TABLE (k int, steps text, run_status text) LANGUAGE sql AS $$
  SELECT k, (SELECT string_agg(s.step_slug || '=' || s.status, ' ' ORDER BY s.step_slug)
             FROM pgflow.step_states AS s WHERE s.run_id = pg_temp.run(k)),
         (SELECT r.status FROM pgflow.runs AS r WHERE r.run_id = pg_temp.run(k))
  FROM generate_series(first, last) AS k ORDER BY k
$$;

SELECT dblink_connect('one', pgflow_tests.dblink_connstr());
SELECT dblink_connect('two', pgflow_tests.dblink_connstr());
SELECT dblink_connect('gate', pgflow_tests.dblink_connstr());
CREATE TEMP TABLE pids AS
SELECT (SELECT p FROM dblink('one', 'SELECT pg_backend_pid()') AS r(p int)) AS one,
       (SELECT p FROM dblink('two', 'SELECT pg_backend_pid()') AS r(p int)) AS two;

-- 1. Two batches in crossed order. The gate pauses session 1 at run 2's c (its second element:
--    completing it counts run 2's d down) after it completed run 1's b; session 2 then waits for
--    run 1. (Holding run 2's c task itself would pause session 1 before it holds any step or run:
--    a batch locks the tasks of its elements first.)
SELECT pg_temp.diamonds(1, 2);
SELECT dblink_exec('gate', 'BEGIN');
SELECT * FROM dblink('gate', format('SELECT 1 FROM pgflow.step_states WHERE run_id = %L AND step_slug = ''d'' FOR UPDATE',
                                    pg_temp.run(2))) AS r(x int);
SELECT dblink_send_query('one', pg_temp.batch(ARRAY[1, 2], ARRAY['b', 'c']));
SELECT ok(pgflow_tests.waits_for_lock(NULL, (SELECT one FROM pids)), 'session 1''s batch waits at the gate');
SELECT dblink_send_query('two', pg_temp.batch(ARRAY[2, 1], ARRAY['b', 'c']));
SELECT ok(pgflow_tests.waits_for_lock(NULL, (SELECT two FROM pids)), 'session 2''s batch, the other way round, waits for session 1');
SELECT dblink_exec('gate', 'ROLLBACK');
SELECT is(pg_temp.outcome('one'), '', 'session 1''s batch succeeds (no deadlock)');
SELECT is(pg_temp.outcome('two'), '', 'session 2''s batch succeeds (no deadlock)');
SELECT results_eq($$SELECT * FROM pg_temp.states(1, 2)$$,
                  $$VALUES (1, 'a=completed b=completed c=completed d=started', 'started'),
                           (2, 'a=completed b=completed c=completed d=started', 'started')$$,
                  'both runs have b and c completed and d started');

-- 2. A batch and a single complete_task: the batch (run 3's b, then run 4's b) is paused at run
--    4's b (counting d down) holding run 4's row; complete_task of run 4's c must not take d first.
SELECT pg_temp.diamonds(3, 4);
SELECT dblink_exec('gate', 'BEGIN');
SELECT * FROM dblink('gate', format('SELECT 1 FROM pgflow.step_states WHERE run_id = %L AND step_slug = ''d'' FOR UPDATE',
                                    pg_temp.run(4))) AS r(x int);
SELECT dblink_send_query('one', pg_temp.batch(ARRAY[3, 4], ARRAY['b', 'b']));
SELECT ok(pgflow_tests.waits_for_lock(NULL, (SELECT one FROM pids)), 'session 1''s batch waits at the gate');
SELECT dblink_send_query('two', format('SELECT count(*) FROM pgflow.complete_task(%L, ''c'', 0, ''"x"'')', pg_temp.run(4)));
SELECT ok(pgflow_tests.waits_for_lock(NULL, (SELECT two FROM pids)), 'session 2''s complete_task waits for session 1');
SELECT dblink_exec('gate', 'ROLLBACK');
SELECT is(pg_temp.outcome('one'), '', 'the batch succeeds (no deadlock)');
SELECT is(pg_temp.outcome('two'), '', 'complete_task succeeds (no deadlock)');
SELECT results_eq($$SELECT * FROM pg_temp.states(4, 4)$$,
                  $$VALUES (4, 'a=completed b=completed c=completed d=started', 'started')$$,
                  'run 4 has b and c completed and d started');

-- 2b. The crossed batches of 1 on the plain diamond: session 1 waits at the gate before it holds
--     a run, so session 2's batch completes meanwhile; then session 1's, which starts both d.
SELECT pg_temp.diamonds(5, 6, 'cp');
SELECT dblink_exec('gate', 'BEGIN');
SELECT * FROM dblink('gate', format('SELECT 1 FROM pgflow.step_tasks WHERE run_id = %L AND step_slug = ''c'' FOR UPDATE',
                                    pg_temp.run(6))) AS r(x int);
SELECT dblink_send_query('one', pg_temp.batch(ARRAY[5, 6], ARRAY['b', 'c']));
SELECT ok(pgflow_tests.waits_for_lock(NULL, (SELECT one FROM pids)), 'plain diamonds: session 1''s batch waits at the gate');
SELECT is((SELECT n FROM dblink('two', pg_temp.batch(ARRAY[6, 5], ARRAY['b', 'c'])) AS r(n bigint)), 2::bigint,
          'plain diamonds: session 2''s batch, the other way round, completes meanwhile');
SELECT dblink_exec('gate', 'ROLLBACK');
SELECT is(pg_temp.outcome('one'), '', 'plain diamonds: session 1''s batch succeeds');
SELECT results_eq($$SELECT * FROM pg_temp.states(5, 6)$$,
                  $$VALUES (5, 'a=completed b=completed c=completed d=started', 'started'),
                           (6, 'a=completed b=completed c=completed d=started', 'started')$$,
                  'plain diamonds: both runs have b and c completed and d started');

-- 3. Many runs, no pause: session 1 completes b of odd runs and c of even runs in ascending run
--    order, session 2 the rest in descending order; then the d tasks the same way. Ten rounds.
-- A procedure, so that each step commits before the other sessions look at the runs.
CREATE TABLE pg_temp.round_errors (error text);
CREATE PROCEDURE pg_temp.crossed_rounds(rounds int, size int, flow text, base int) LANGUAGE plpgsql AS $$
DECLARE
  first int;
  up int[];
  down int[];
BEGIN
  FOR r IN 1 .. rounds LOOP
    first := base + (r - 1) * size + 1;
    up := ARRAY(SELECT generate_series(first, first + size - 1));
    down := ARRAY(SELECT generate_series(first + size - 1, first, -1));
    PERFORM pg_temp.diamonds(first, first + size - 1, flow);
    COMMIT;
    PERFORM dblink_send_query('one', pg_temp.batch(up, ARRAY(SELECT CASE WHEN k % 2 = 1 THEN 'b' ELSE 'c' END FROM unnest(up) AS k)));
    PERFORM dblink_send_query('two', pg_temp.batch(down, ARRAY(SELECT CASE WHEN k % 2 = 1 THEN 'c' ELSE 'b' END FROM unnest(down) AS k)));
    INSERT INTO pg_temp.round_errors SELECT e FROM unnest(ARRAY[pg_temp.outcome('one'), pg_temp.outcome('two')]) AS e WHERE e <> '';
    PERFORM pgflow_tests.read_and_start(flow, 30, 1000);
    COMMIT;
    PERFORM dblink_send_query('one', pg_temp.batch(ARRAY(SELECT k FROM unnest(up) AS k WHERE k % 2 = 1),
                                                   ARRAY(SELECT 'd' FROM unnest(up) AS k WHERE k % 2 = 1)));
    PERFORM dblink_send_query('two', pg_temp.batch(ARRAY(SELECT k FROM unnest(down) AS k WHERE k % 2 = 0),
                                                   ARRAY(SELECT 'd' FROM unnest(down) AS k WHERE k % 2 = 0)));
    INSERT INTO pg_temp.round_errors SELECT e FROM unnest(ARRAY[pg_temp.outcome('one'), pg_temp.outcome('two')]) AS e WHERE e <> '';
    COMMIT;
  END LOOP;
END;
$$;
CALL pg_temp.crossed_rounds(10, 20, 'cc', 20);
SELECT is((SELECT string_agg(error, ' | ') FROM pg_temp.round_errors), NULL,
          'ten rounds of 20 diamonds completed by two sessions in crossed order: no error');
SELECT is((SELECT count(*) FROM pg_temp.states(21, 220) WHERE run_status = 'completed'
             AND steps = 'a=completed b=completed c=completed d=completed'), 200::bigint,
          'and all 200 runs completed with every step');
CALL pg_temp.crossed_rounds(10, 20, 'cp', 300);
SELECT is((SELECT string_agg(error, ' | ') FROM pg_temp.round_errors), NULL,
          'ten rounds of 20 plain diamonds (completed set-wise) by two sessions in crossed order: no error');
SELECT is((SELECT count(*) FROM pg_temp.states(301, 500) WHERE run_status = 'completed'
             AND steps = 'a=completed b=completed c=completed d=completed'), 200::bigint,
          'and all 200 plain runs completed with every step');

SELECT dblink_disconnect('one');
SELECT dblink_disconnect('two');
SELECT dblink_disconnect('gate');

SELECT * FROM finish();
