-- Cost of one claim of 10 tasks from a root map, by the length of the map's input array: one run of
-- N elements, then `claims` claims of 10 (each its own transaction, as a worker makes it), timed
-- inside the backend (wall from clock_timestamp(), CPU from /proc/self/stat, 10 ms ticks: read the
-- CPU over all claims). Works on pgflow-cpp's SQL (pgflow_cpp.read_and_start_tasks) and on pgflow
-- 0.8.1's (pgmq.read, then pgflow.start_tasks). Needs a superuser (pg_read_file). Prints TSV rows:
--   elements, claims, first claim's wall ms, median wall ms of the others, their cpu ms per claim
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v sizes='{100,1000,10000,100000}'] [-v claims=12] -f benchmarks/sql/map_claim_cost.sql
\if :{?sizes}
\else
\set sizes '{100,1000,10000,100000}'
\endif
\if :{?claims}
\else
\set claims 12
\endif
SET client_min_messages = warning;
SET synchronous_commit = off;
\pset format unaligned
\pset fieldsep '\t'
\pset tuples_only on

CREATE FUNCTION pg_temp.cpu_ms() RETURNS float8 LANGUAGE sql AS $$
  SELECT (split_part(s, ' ', 12)::float8 + split_part(s, ' ', 13)::float8) * 1000 / 100
  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) AS stat
$$;
CREATE TEMP TABLE lap (elements int, k int, ms float8) ON COMMIT PRESERVE ROWS;
CREATE TEMP TABLE cpu (elements int, claims int, ms float8) ON COMMIT PRESERVE ROWS;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgflow.flows WHERE flow_slug = 'map_claim_cost') THEN
    PERFORM pgflow.create_flow('map_claim_cost');
    PERFORM pgflow.add_step('map_claim_cost', 'each', ARRAY[]::text[], step_type => 'map');
  END IF;
  INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
  VALUES ('00000000-0000-0000-0000-00000000c1a1', 'map_claim_cost', 'map_claim_cost')
  ON CONFLICT DO NOTHING;
END $$;

CREATE PROCEDURE pg_temp.measure(n int, claims int) LANGUAGE plpgsql AS $$
DECLARE
  ours constant boolean := to_regprocedure('pgflow_cpp.read_and_start_tasks(text,integer,integer,uuid)') IS NOT NULL;
  w constant uuid := '00000000-0000-0000-0000-00000000c1a1';
  t0 timestamptz;
  c0 float8;
  ids bigint[];
  got int;
BEGIN
  -- Small objects, as a fan-out over records would have (not compressible to nothing like integers).
  PERFORM pgflow.start_flow('map_claim_cost',
    (SELECT jsonb_agg(jsonb_build_object('id', i, 'name', 'item-' || i, 'price', i % 97)) FROM generate_series(1, n) AS i));
  COMMIT;
  -- Statistics for the tables' real sizes, as autovacuum would give them (pgflow 0.8.1's
  -- start_tasks is planned per call: stale statistics would cost it a scan per task).
  ANALYZE pgflow.runs, pgflow.step_states, pgflow.step_tasks;
  EXECUTE format('ANALYZE pgmq.%I', pgmq.format_table_name('map_claim_cost', 'q'));
  COMMIT;
  FOR k IN 1 .. claims LOOP
    t0 := clock_timestamp();
    IF ours THEN
      SELECT count(*) INTO got FROM pgflow_cpp.read_and_start_tasks('map_claim_cost', 30, 10, w) AS t WHERE t.run_id IS NOT NULL;
    ELSE
      SELECT array_agg(m.msg_id) INTO ids FROM pgmq.read('map_claim_cost', 30, 10) AS m;
      SELECT count(*) INTO got FROM pgflow.start_tasks('map_claim_cost', ids, w) AS t;
    END IF;
    INSERT INTO pg_temp.lap VALUES (n, k, extract(epoch FROM clock_timestamp() - t0) * 1000);
    COMMIT;
    IF k = 1 THEN
      c0 := pg_temp.cpu_ms();
    END IF;
  END LOOP;
  INSERT INTO pg_temp.cpu VALUES (n, claims - 1, pg_temp.cpu_ms() - c0);
  COMMIT;
  -- The run is left unfinished; fail it so that its messages do not reach the next size's claims.
  UPDATE pgflow.runs SET status = 'failed', failed_at = now() WHERE flow_slug = 'map_claim_cost' AND status = 'started';
  EXECUTE format('DELETE FROM pgmq.%I', pgmq.format_table_name('map_claim_cost', 'q'));
  COMMIT;
END;
$$;

SELECT format('CALL pg_temp.measure(%s, %s);', n, :claims) FROM unnest(:'sizes'::int[]) AS n \gexec

-- The first claim of a run is apart: on pgflow-cpp's SQL it copies a large array into chunks.
SELECT l.elements, count(*) AS claims,
       round((max(l.ms) FILTER (WHERE l.k = 1))::numeric, 2) AS first_claim_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms) FILTER (WHERE l.k > 1))::numeric, 2) AS median_ms,
       round((c.ms / c.claims)::numeric, 2) AS cpu_ms_per_claim
FROM pg_temp.lap AS l JOIN pg_temp.cpu AS c USING (elements)
GROUP BY l.elements, c.ms, c.claims ORDER BY l.elements;
