-- Cost of a claim (pgflow_cpp.read_and_start_tasks, qty 10, each in its own transaction, each
-- claimed task completed in a transaction of its own that is not measured) for a flow without
-- flow control and with each kind of limit (none of them binding: the cost of enforcing, not of
-- waiting), and while runs have priorities (the ordered read). Server CPU from /proc/self/stat
-- (10 ms ticks) and wall time, per claimed task. Needs a superuser (pg_read_file).
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v runs=2000] [-v only_plain=1] -f benchmarks/sql/claim_cost_limits.sql
-- only_plain=1 measures the unlimited flow alone (for a database with pgflow-cpp's SQL before
-- flow control, or pgflow 0.8.1's plus read_and_start_tasks). Prints TSV: case, tasks, CPU us/task, wall us/task.
\if :{?runs}
\else
\set runs 2000
\endif
\if :{?only_plain}
\else
\set only_plain 0
\endif
SET client_min_messages = warning;

CREATE TEMP TABLE cost (ord serial, what text, tasks int, cpu_us float8, wall_us float8) ON COMMIT PRESERVE ROWS;

CREATE FUNCTION pg_temp.cpu_ms() RETURNS float8 LANGUAGE sql AS $$
  SELECT (split_part(s, ' ', 12)::float8 + split_part(s, ' ', 13)::float8) * 1000 / 100
  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) AS stat
$$;

CREATE PROCEDURE pg_temp.measure(what text, flow text, runs int, priorities boolean)
LANGUAGE plpgsql AS $$
DECLARE
  w uuid := '00000000-0000-0000-0000-0000000c1a1a';
  cpu float8 := 0;
  wall float8 := 0;
  c0 float8;
  t0 timestamptz;
  n int := 0;
  runs_got uuid[];
  steps_got text[];
  indexes_got int[];
BEGIN
  INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES (w, flow, 'claim_cost')
  ON CONFLICT (worker_id) DO NOTHING;
  FOR i IN 1 .. runs LOOP
    IF priorities THEN
      PERFORM pgflow_cpp.start_flow_with_priority(flow, jsonb_build_object('customer', i % 50), CASE WHEN i % 20 = 0 THEN 5 ELSE 0 END);
    ELSE
      PERFORM pgflow.start_flow(flow, jsonb_build_object('customer', i % 50));
    END IF;
  END LOOP;
  COMMIT;
  EXECUTE format('ANALYZE pgmq.%I', 'q_' || flow);
  ANALYZE pgflow.step_tasks;
  COMMIT;
  LOOP
    c0 := pg_temp.cpu_ms();
    t0 := clock_timestamp();
    SELECT array_agg(c.run_id), array_agg(c.step_slug), array_agg(c.task_index)
    INTO runs_got, steps_got, indexes_got FROM pgflow_cpp.read_and_start_tasks(flow, 30, 10, w) AS c WHERE c.run_id IS NOT NULL;
    COMMIT;
    cpu := cpu + pg_temp.cpu_ms() - c0;
    wall := wall + extract(epoch FROM clock_timestamp() - t0) * 1000;
    EXIT WHEN runs_got IS NULL;
    FOR k IN 1 .. cardinality(runs_got) LOOP
      PERFORM pgflow.complete_task(runs_got[k], steps_got[k], indexes_got[k], '1');
      n := n + 1;
    END LOOP;
    COMMIT;
  END LOOP;
  INSERT INTO pg_temp.cost (what, tasks, cpu_us, wall_us) VALUES (what, n, cpu * 1000 / n, wall * 1000 / n);
  COMMIT;
END;
$$;

SELECT pgflow.create_flow(f) FROM unnest(ARRAY['cc_plain', 'cc_conc', 'cc_key', 'cc_rate', 'cc_prio']) AS f;
SELECT pgflow.add_step(f, 'a') FROM unnest(ARRAY['cc_plain', 'cc_conc', 'cc_key', 'cc_rate', 'cc_prio']) AS f;
\if :only_plain
\else
SELECT pgflow_cpp.set_step_limits('cc_conc', 'a', max_concurrency => 50);
SELECT pgflow_cpp.set_step_limits('cc_key', 'a', concurrency_key => '{customer}', max_per_key => 10);
SELECT pgflow_cpp.set_rate_limit('cc_rate', 1000000, 1);
SELECT pgflow_cpp.set_step_limits('cc_rate', 'a', rate_limit => 'cc_rate');
\endif

CALL pg_temp.measure('no flow control', 'cc_plain', :runs, false);
\if :only_plain
\else
CALL pg_temp.measure('max_concurrency 50', 'cc_conc', :runs, false);
CALL pg_temp.measure('max_per_key 10 (50 keys)', 'cc_key', :runs, false);
CALL pg_temp.measure('rate limit (not reached)', 'cc_rate', :runs, false);
CALL pg_temp.measure('priority 5 on 1 run in 20 (ordered read)', 'cc_prio', :runs, true);
\endif
SELECT what, tasks, round(cpu_us::numeric, 1) AS cpu_us_per_task, round(wall_us::numeric, 1) AS wall_us_per_task
FROM cost ORDER BY ord;
