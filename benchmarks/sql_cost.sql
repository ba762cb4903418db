-- Server CPU per task of each pgflow SQL call, measured inside one backend from its own
-- /proc/self/stat (so other load on the machine does not inflate it), every call in its own
-- transaction as a worker makes it. Empties the run tables first. Needs a superuser (pg_read_file) and the flows bench_single and
-- bench_map1000 as bench_e2e registers them. Runs on whatever SQL the database has: ours (then
-- also the batched pgflow.complete_tasks) or pgflow 0.8.1's.
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v runs=300] -f benchmarks/sql_cost.sql
-- Prints TSV rows: flow, mode (one by one / batched), call, tasks, server CPU ms per task (10 ms clock ticks: ±10 ms / tasks).
\if :{?runs}
\else
\set runs 300
\endif
SET client_min_messages = warning;

CREATE TEMP TABLE cost (ord serial, flow text, mode text, call text, tasks int, cpu_ms float8) ON COMMIT PRESERVE ROWS;
CREATE TEMP TABLE claimed (run_id uuid, step_slug text, task_index int) ON COMMIT PRESERVE ROWS;

CREATE FUNCTION pg_temp.cpu_ms() RETURNS float8 LANGUAGE sql AS $$
  SELECT (split_part(s, ' ', 12)::float8 + split_part(s, ' ', 13)::float8) * 1000 / 100
  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) AS stat
$$;

CREATE PROCEDURE pg_temp.measure(flow text, input jsonb, runs int, batched boolean)
LANGUAGE plpgsql AS $$
DECLARE
  t0 float8;
  n int;
  got int;
  task record;
  w uuid := '00000000-0000-0000-0000-0000000c0575';
  mode text := CASE WHEN batched THEN 'batched' ELSE 'one by one' END;
BEGIN
  -- A benchmark database: start from empty run tables every time.
  EXECUTE format('TRUNCATE pgflow.step_tasks, pgflow.step_states, pgflow.runs, pgflow.workers, pgmq.%I, pgmq.%I CASCADE',
                 'q_' || lower(flow), 'a_' || lower(flow));
  IF to_regclass('realtime.messages') IS NOT NULL THEN
    TRUNCATE realtime.messages;
  END IF;
  INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES (w, flow, 'sql_cost');
  TRUNCATE pg_temp.claimed;
  COMMIT;

  t0 := pg_temp.cpu_ms();
  FOR i IN 1 .. runs LOOP
    PERFORM pgflow.start_flow(flow, input);
    COMMIT;
  END LOOP;
  SELECT count(*) INTO n FROM pgflow.step_tasks AS t WHERE t.flow_slug = flow AND t.status = 'queued';
  INSERT INTO pg_temp.cost (flow, mode, call, tasks, cpu_ms) VALUES (flow, mode, 'start_flow', n, pg_temp.cpu_ms() - t0);
  COMMIT;
  -- Plans for tables of this size, as autovacuum would have made them possible (see harness.hpp).
  EXECUTE format('ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs, pgmq.%I', 'q_' || lower(flow));
  COMMIT;

  t0 := pg_temp.cpu_ms();
  LOOP
    INSERT INTO pg_temp.claimed
    SELECT t.run_id, t.step_slug, t.task_index
    FROM pgflow.start_tasks(flow, ARRAY(SELECT m.msg_id FROM pgmq.read(flow, 60, 10) AS m), w) AS t;
    GET DIAGNOSTICS got = ROW_COUNT;
    COMMIT;
    EXIT WHEN got = 0;
  END LOOP;
  SELECT count(*) INTO n FROM pg_temp.claimed;
  INSERT INTO pg_temp.cost (flow, mode, call, tasks, cpu_ms) VALUES (flow, mode, 'pgmq.read(10) + start_tasks', n, pg_temp.cpu_ms() - t0);
  COMMIT;

  t0 := pg_temp.cpu_ms();
  IF batched THEN
    FOR task IN
      SELECT array_agg(c.run_id) AS r, array_agg(c.step_slug) AS s, array_agg(c.task_index) AS i
      FROM (SELECT c.*, (row_number() OVER ()) - 1 AS k FROM pg_temp.claimed AS c) AS c
      GROUP BY c.k / 10
    LOOP
      PERFORM pgflow.complete_tasks(task.r, task.s, task.i, array_fill('{"value": 2}'::jsonb, ARRAY[cardinality(task.r)]));
      COMMIT;
    END LOOP;
  ELSE
    FOR task IN SELECT * FROM pg_temp.claimed LOOP
      PERFORM pgflow.complete_task(task.run_id, task.step_slug, task.task_index, '{"value": 2}');
      COMMIT;
    END LOOP;
  END IF;
  INSERT INTO pg_temp.cost (flow, mode, call, tasks, cpu_ms)
  VALUES (flow, mode, CASE WHEN batched THEN 'complete_tasks (10 per call)' ELSE 'complete_task' END, n,
          pg_temp.cpu_ms() - t0);
  COMMIT;
END;
$$;

SELECT jsonb_agg(g) AS map_input FROM generate_series(0, 999) AS g \gset
CALL pg_temp.measure('bench_single', '{"value": 1}', :runs, false);
CALL pg_temp.measure('bench_map1000', :'map_input', 1, false);
SELECT to_regprocedure('pgflow.complete_tasks(uuid[], text[], integer[], jsonb[])') IS NOT NULL AS has_batch \gset
\if :has_batch
CALL pg_temp.measure('bench_single', '{"value": 1}', :runs, true);
CALL pg_temp.measure('bench_map1000', :'map_input', 1, true);
\endif

\pset footer off
\pset format unaligned
\pset fieldsep '\t'
\pset tuples_only on
SELECT flow, mode, call, tasks, round((cpu_ms / nullif(tasks, 0))::numeric, 3) AS cpu_ms_per_task FROM pg_temp.cost ORDER BY ord;
