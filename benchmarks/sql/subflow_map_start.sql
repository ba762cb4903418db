-- Starting a map of subflows: a root map step of kind subflow over N elements of about 1 kB each
-- (30 md5 strings), whose child flow has one step; pgflow.start_flow of the parent starts every
-- child run in its transaction. Prints, per N, the milliseconds of that start_flow, per child, and
-- the input's stored size. pgflow-cpp's SQL only (subflows are an addition), one backend:
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v sizes='{1000,16000}'] -f benchmarks/sql/subflow_map_start.sql
\if :{?sizes}
\else
\set sizes '{1000,16000}'
\endif
SET client_min_messages = warning;
\o /dev/null
SELECT pgflow.create_flow('subflow_map_kid');
SELECT pgflow.add_step('subflow_map_kid', 'k');
SELECT pgflow.create_flow('subflow_map_fan');
SELECT pgflow.add_step('subflow_map_fan', 'each', step_type => 'map');
SELECT pgflow_cpp.set_step_kind('subflow_map_fan', 'each', 'subflow', child_flow_slug => 'subflow_map_kid');
CREATE TEMP TABLE inputs AS
SELECT n, to_jsonb(ARRAY(SELECT jsonb_build_object('id', i, 'doc', (SELECT string_agg(md5(i::text || '.' || j), '')
                                                                    FROM generate_series(1, 30) AS j))
                         FROM generate_series(1, n) AS i)) AS input
FROM unnest(:'sizes'::int[]) AS n;
\o
CREATE TEMP TABLE lap (n int, ms float8);
DO $$
DECLARE
  began timestamptz;
  r record;
BEGIN
  FOR r IN SELECT * FROM inputs ORDER BY n LOOP
    began := clock_timestamp();
    PERFORM pgflow.start_flow('subflow_map_fan', r.input);
    INSERT INTO lap VALUES (r.n, extract(epoch FROM clock_timestamp() - began) * 1000);
  END LOOP;
END
$$;
SELECT l.n AS children, round(l.ms::numeric) AS ms, round((l.ms / l.n)::numeric, 3) AS ms_per_child,
       (SELECT pg_column_size(i.input) FROM inputs AS i WHERE i.n = l.n) AS input_bytes
FROM lap AS l ORDER BY l.n;
