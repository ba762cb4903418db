-- Server cost of each hot SQL call of the core, measured inside one backend: CPU time from the
-- backend's own /proc/self/stat (10 ms ticks, so each case runs long enough for that to be
-- small) and wall time from clock_timestamp(). Every call is its own transaction, as a worker
-- makes it. Driven by benchmarks/sql/call_costs.sh, which installs sql/ into a fresh database
-- first; needs a superuser (pg_read_file). Commits do not wait for the WAL flush. Prints TSV rows: case, unit, count, cpu ms per unit,
-- wall ms per unit.
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v runs=500] -f benchmarks/sql/call_costs.sql
\if :{?runs}
\else
\set runs 500
\endif
SET client_min_messages = warning;
-- The cost of the SQL, not of waiting for WAL flushes.
SET synchronous_commit = off;
SELECT set_config('call_costs.runs', :'runs', false) AS runs_setting \gset

CREATE TEMP TABLE cost (ord serial, name text, unit text, n int, cpu_ms float8, wall_ms float8) ON COMMIT PRESERVE ROWS;
CREATE TEMP TABLE claimed (run_id uuid, step_slug text, task_index int, msg_id bigint) ON COMMIT PRESERVE ROWS;

CREATE FUNCTION pg_temp.cpu_ms() RETURNS float8 LANGUAGE sql AS $$
  SELECT (split_part(s, ' ', 12)::float8 + split_part(s, ' ', 13)::float8) * 1000 / 100
  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) AS stat
$$;

-- Stopwatch: pg_temp.lap() returns (cpu, wall) since the previous lap.
CREATE TEMP TABLE watch (cpu float8, wall timestamptz) ON COMMIT PRESERVE ROWS;
INSERT INTO watch VALUES (0, clock_timestamp());
CREATE PROCEDURE pg_temp.start_watch() LANGUAGE sql AS $$
  UPDATE pg_temp.watch SET cpu = pg_temp.cpu_ms(), wall = clock_timestamp();
$$;
CREATE PROCEDURE pg_temp.record(name text, unit text, n int) LANGUAGE sql AS $$
  INSERT INTO pg_temp.cost (name, unit, n, cpu_ms, wall_ms)
  SELECT name, unit, n, pg_temp.cpu_ms() - w.cpu, extract(epoch FROM clock_timestamp() - w.wall) * 1000
  FROM pg_temp.watch AS w;
$$;

CREATE PROCEDURE pg_temp.reset_runtime(flows text[]) LANGUAGE plpgsql AS $$
DECLARE
  f text;
BEGIN
  -- TRUNCATE also forgets the tables' statistics (reltuples -1): the state of a fresh install.
  TRUNCATE pgflow.step_tasks, pgflow.step_states, pgflow.runs, pgflow.workers CASCADE;
  FOREACH f IN ARRAY flows LOOP
    EXECUTE format('TRUNCATE pgmq.%I, pgmq.%I', pgmq.format_table_name(f, 'q'), pgmq.format_table_name(f, 'a'));
  END LOOP;
  INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
  VALUES ('00000000-0000-0000-0000-0000000c0575', flows[1], 'call_costs');
  TRUNCATE pg_temp.claimed;
END;
$$;

-- Claims every visible task of the flow, qty messages per claim: pgmq.read in one transaction,
-- start_tasks in the next (as pgflow::worker does).
CREATE PROCEDURE pg_temp.claim_all(flow text, qty int, label text) LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  n int := 0;
  got int;
BEGIN
  CALL pg_temp.start_watch();
  LOOP
    ids := ARRAY(SELECT m.msg_id FROM pgmq.read(flow, 60, qty) AS m);
    COMMIT;
    EXIT WHEN cardinality(ids) = 0;
    INSERT INTO pg_temp.claimed
    SELECT t.run_id, t.step_slug, t.task_index, t.msg_id
    FROM pgflow.start_tasks(flow, ids, '00000000-0000-0000-0000-0000000c0575') AS t;
    GET DIAGNOSTICS got = ROW_COUNT;
    n := n + got;
    COMMIT;
  END LOOP;
  IF label IS NOT NULL THEN
    CALL pg_temp.record(label, 'task', n);
  END IF;
  COMMIT;
END;
$$;

-- batch 1: complete_task per task; batch_function: complete_tasks even for batches of one.
CREATE PROCEDURE pg_temp.complete_all(label text, batch int, batch_function boolean DEFAULT false) LANGUAGE plpgsql AS $$
DECLARE
  task record;
  n int := 0;
BEGIN
  CALL pg_temp.start_watch();
  IF batch = 1 AND NOT batch_function THEN
    FOR task IN SELECT * FROM pg_temp.claimed ORDER BY run_id, step_slug, task_index LOOP
      PERFORM pgflow.complete_task(task.run_id, task.step_slug, task.task_index, '{"value": 2}');
      COMMIT;
      n := n + 1;
    END LOOP;
  ELSE
    FOR task IN
      SELECT array_agg(c.run_id ORDER BY c.k) AS r, array_agg(c.step_slug ORDER BY c.k) AS s,
             array_agg(c.task_index ORDER BY c.k) AS i
      FROM (SELECT c.*, (row_number() OVER (ORDER BY c.run_id, c.step_slug, c.task_index)) - 1 AS k
            FROM pg_temp.claimed AS c) AS c
      GROUP BY c.k / batch
    LOOP
      EXECUTE 'SELECT count(*) FROM pgflow.complete_tasks($1, $2, $3, $4)'
        USING task.r, task.s, task.i, array_fill('{"value": 2}'::jsonb, ARRAY[cardinality(task.r)]);
      COMMIT;
      n := n + cardinality(task.r);
    END LOOP;
  END IF;
  IF label IS NOT NULL THEN
    CALL pg_temp.record(label, 'task', n);
  END IF;
  TRUNCATE pg_temp.claimed;
  COMMIT;
END;
$$;

CREATE PROCEDURE pg_temp.start_runs(flow text, input jsonb, runs int, label text) LANGUAGE plpgsql AS $$
BEGIN
  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    PERFORM pgflow.start_flow(flow, input);
    COMMIT;
  END LOOP;
  IF label IS NOT NULL THEN
    CALL pg_temp.record(label, 'run', runs);
  END IF;
  COMMIT;
END;
$$;

-- The set-up of the cases that time completions, timing nothing: a fresh runtime (reset_runtime),
-- `runs` runs of the flow started, the tables analyzed, and the runs' first tasks claimed.
CREATE PROCEDURE pg_temp.claimed_runs(flow text, runs int) LANGUAGE plpgsql AS $$
BEGIN
  CALL pg_temp.reset_runtime(ARRAY[flow]);
  CALL pg_temp.start_runs(flow, '{"value": 1}', runs, NULL);
  ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs;
  CALL pg_temp.claim_all(flow, 10, NULL);
END;
$$;

-- Flows: one single step; a root map followed by a single step that takes its output; a diamond;
-- a chain of three; a single step that retries.
SELECT pgflow.create_flow('cc_single');
SELECT pgflow.add_step('cc_single', 'only');
SELECT pgflow.create_flow('cc_diamond');
SELECT pgflow.add_step('cc_diamond', 'a');
SELECT pgflow.add_step('cc_diamond', 'b', ARRAY['a']);
SELECT pgflow.add_step('cc_diamond', 'c', ARRAY['a']);
SELECT pgflow.add_step('cc_diamond', 'd', ARRAY['b', 'c']);
SELECT pgflow.create_flow('cc_chain');
SELECT pgflow.add_step('cc_chain', 'a');
SELECT pgflow.add_step('cc_chain', 'b', ARRAY['a']);
SELECT pgflow.add_step('cc_chain', 'c', ARRAY['b']);
SELECT pgflow.create_flow('cc_map');
SELECT pgflow.add_step('cc_map', 'each', step_type => 'map');
SELECT pgflow.add_step('cc_map', 'total', ARRAY['each']);
SELECT pgflow.create_flow('cc_retry', max_attempts => 3, base_delay => 0);
SELECT pgflow.add_step('cc_retry', 'flaky');
SELECT pgmq.create('cc_queue');
-- Statistics stay as the calls leave them (no autovacuum ANALYZE in the middle of a case).
ALTER TABLE pgflow.step_tasks SET (autovacuum_enabled = off);
ALTER TABLE pgflow.step_states SET (autovacuum_enabled = off);
ALTER TABLE pgflow.runs SET (autovacuum_enabled = off);
SELECT jsonb_agg(g) AS map_input FROM generate_series(0, 999) AS g \gset

-- Five maps of 1,000 on never-analyzed tables: the first big maps after an install.
CALL pg_temp.reset_runtime(ARRAY['cc_map']);
CALL pg_temp.start_runs('cc_map', :'map_input', 5, 'map1000 x5 fresh: start_flow');
CALL pg_temp.claim_all('cc_map', 10, 'map1000 x5 fresh: read(10) + start_tasks');
CALL pg_temp.complete_all('map1000 x5 fresh: complete_task', 1);

-- The same with statistics for tables of that size.
CALL pg_temp.reset_runtime(ARRAY['cc_map']);
CALL pg_temp.start_runs('cc_map', :'map_input', 1, NULL);
ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs;
CALL pg_temp.claim_all('cc_map', 10, 'map1000: read(10) + start_tasks');
CALL pg_temp.complete_all('map1000: complete_task', 1);
SELECT to_regprocedure('pgflow.complete_tasks(uuid[], text[], integer[], jsonb[])') IS NOT NULL AS has_batch \gset
\if :has_batch
CALL pg_temp.reset_runtime(ARRAY['cc_map']);
CALL pg_temp.start_runs('cc_map', :'map_input', 1, NULL);
ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs;
CALL pg_temp.claim_all('cc_map', 10, NULL);
CALL pg_temp.complete_all('map1000: complete_tasks (10 per call)', 10);
\endif

-- Single-step runs, one at a time.
CALL pg_temp.reset_runtime(ARRAY['cc_single']);
CALL pg_temp.start_runs('cc_single', '{"value": 1}', :runs, 'single: start_flow');
ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs;
CALL pg_temp.claim_all('cc_single', 10, 'single: read(10) + start_tasks');
CALL pg_temp.complete_all('single: complete_task', 1);
\if :has_batch
CALL pg_temp.claimed_runs('cc_single', :runs);
CALL pg_temp.complete_all('single: complete_tasks (10 per call)', 10);
CALL pg_temp.claimed_runs('cc_single', :runs);
CALL pg_temp.complete_all('single: complete_tasks (1 per call)', 1, true);
\endif

-- Diamonds (a -> b, c -> d): completing b and c, each a step completion with a dependent; the
-- second of a run also starts d.
CALL pg_temp.reset_runtime(ARRAY['cc_diamond']);
CALL pg_temp.start_runs('cc_diamond', '{"value": 1}', :runs, NULL);
CALL pg_temp.claim_all('cc_diamond', 10, NULL);
CALL pg_temp.complete_all(NULL, 1);
ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs;
CALL pg_temp.claim_all('cc_diamond', 10, NULL);
CALL pg_temp.complete_all('diamond: complete_task (b and c)', 1);
\if :has_batch
CALL pg_temp.reset_runtime(ARRAY['cc_diamond']);
CALL pg_temp.start_runs('cc_diamond', '{"value": 1}', :runs, NULL);
CALL pg_temp.claim_all('cc_diamond', 10, NULL);
CALL pg_temp.complete_all(NULL, 1);
ANALYZE pgflow.step_tasks, pgflow.step_states, pgflow.runs;
CALL pg_temp.claim_all('cc_diamond', 10, NULL);
CALL pg_temp.complete_all('diamond: complete_tasks (b and c, 10 per call)', 10);
\endif

-- Chains (a -> b -> c): completing a, a step completion that starts the next step.
CALL pg_temp.claimed_runs('cc_chain', :runs);
CALL pg_temp.complete_all('chain: complete_task (a, starts b)', 1);
\if :has_batch
CALL pg_temp.claimed_runs('cc_chain', :runs);
CALL pg_temp.complete_all('chain: complete_tasks (a, starts b, 10 per call)', 10);
CALL pg_temp.claimed_runs('cc_chain', :runs);
CALL pg_temp.complete_all('chain: complete_tasks (a, starts b, 1 per call)', 1, true);
\endif

-- A failed attempt that is retried (task re-queued, message delayed).
CALL pg_temp.claimed_runs('cc_retry', :runs);
DO $$
DECLARE
  task record;
  n int := 0;
BEGIN
  CALL pg_temp.start_watch();
  FOR task IN SELECT * FROM pg_temp.claimed LOOP
    PERFORM pgflow.fail_task(task.run_id, task.step_slug, task.task_index, 'flaky');
    COMMIT;
    n := n + 1;
  END LOOP;
  CALL pg_temp.record('retry: fail_task (re-queued)', 'task', n);
END
$$;

-- The queue on its own.
DO $$
DECLARE
  runs int := current_setting('call_costs.runs')::int * 4;  -- cheap calls: more of them per 10 ms tick
  ids bigint[];
BEGIN
  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    PERFORM pgmq.read('cc_single', 30, 10);
    COMMIT;
  END LOOP;
  CALL pg_temp.record('queue: read(10) of an empty queue', 'call', runs);

  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    PERFORM pgmq.send('cc_queue', '{"n": 1}');
    COMMIT;
  END LOOP;
  CALL pg_temp.record('queue: send', 'call', runs);

  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    PERFORM pgmq.send_batch('cc_queue', array_fill('{"n": 1}'::jsonb, ARRAY[10]));
    COMMIT;
  END LOOP;
  CALL pg_temp.record('queue: send_batch of 10', 'call', runs);

  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    PERFORM pgmq.set_vt('cc_queue', i, 0);
    COMMIT;
  END LOOP;
  CALL pg_temp.record('queue: set_vt', 'call', runs);

  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    ids := ARRAY(SELECT m.msg_id FROM pgmq.read('cc_queue', 30, 10) AS m);
    COMMIT;
    PERFORM pgmq.archive('cc_queue', ids);
    COMMIT;
  END LOOP;
  CALL pg_temp.record('queue: read(10) + archive(10 ids)', 'call', runs);

  -- complete_task archives one message at a time.
  CALL pg_temp.start_watch();
  FOR i IN 1 .. runs LOOP
    PERFORM pgmq.archive('cc_queue', (SELECT min(msg_id) FROM pgmq.q_cc_queue));
    COMMIT;
  END LOOP;
  CALL pg_temp.record('queue: archive(1 id)', 'call', runs);
END
$$;

\pset footer off
\pset format unaligned
\pset fieldsep '\t'
\pset tuples_only on
SELECT name, unit, n, round((cpu_ms / nullif(n, 0))::numeric, 4), round((wall_ms / nullif(n, 0))::numeric, 4)
FROM pg_temp.cost ORDER BY ord;
