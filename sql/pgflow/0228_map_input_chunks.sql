-- Large map inputs, read by chunk (addition: not in pgflow 0.8.1; nothing in schema pgflow changes).
-- A claim of map tasks takes each task's element from the map's source array (the run input of a
-- root map, the output of its single dependency otherwise). Reading that array means detoasting
-- and copying all of it, so a claim's cost grew with the array's length: about 44 ms per claim of 10
-- at 100,000 elements against 1.3 ms at 1,000 (benchmarks/sql/map_claim_cost.sql), i.e. O(N²) for
-- the whole map. For a source array of 64 kB or more (its stored, possibly compressed size) the
-- first claim of the step copies the array once into chunks of 100 elements, and every claim reads
-- only the chunks of its tasks. Smaller arrays are read whole, as before.
--
-- The chunks are derived data: the table is UNLOGGED (no WAL for the copy; after a crash it is
-- empty and the next claim copies again), and its rows go with their run (ON DELETE CASCADE, e.g.
-- pgflow.prune_data_older_than). Only the schema owner reads or writes it, through the claim.
CREATE UNLOGGED TABLE IF NOT EXISTS pgflow_cpp.map_input_chunks (
  run_id uuid NOT NULL REFERENCES pgflow.runs (run_id) ON DELETE CASCADE,
  step_slug text NOT NULL,
  chunk integer NOT NULL,  -- elements chunk * 100 .. chunk * 100 + 99 of the source array
  elements jsonb NOT NULL,
  PRIMARY KEY (run_id, step_slug, chunk)
);
REVOKE ALL ON pgflow_cpp.map_input_chunks FROM PUBLIC;

-- pgflow_cpp.chunk_map_inputs(flow_slug, run_ids, step_slugs) -> void
-- Copies into map_input_chunks the source array of every map step among the claimed (run, step)
-- pairs whose array is large and not yet chunked. Called by pgflow_cpp.claim_tasks before it
-- builds the claimed tasks' inputs (a statement of its own, so that the input statement sees the
-- chunks). Two claims chunking the same step at once: the second waits on the first's rows and
-- then inserts nothing (ON CONFLICT); both read the chunks afterwards.
CREATE OR REPLACE FUNCTION pgflow_cpp.chunk_map_inputs(flow_slug text, run_ids uuid[], step_slugs text[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  src record;
  stored_size integer;
BEGIN
  FOR src IN
    SELECT DISTINCT c.run_id, c.step_slug, s.deps_count, d.dep_slug
    FROM unnest(chunk_map_inputs.run_ids, chunk_map_inputs.step_slugs) AS c(run_id, step_slug)
    JOIN pgflow.steps AS s
      ON s.flow_slug = chunk_map_inputs.flow_slug AND s.step_slug = c.step_slug AND s.step_type = 'map'
    LEFT JOIN pgflow.deps AS d ON d.flow_slug = s.flow_slug AND d.step_slug = s.step_slug
    LEFT JOIN pgflow.steps AS p ON p.flow_slug = d.flow_slug AND p.step_slug = d.dep_slug
    -- A map over a map reads its parent's task outputs by key already.
    WHERE (s.deps_count = 0 OR p.step_type = 'single')
      AND NOT EXISTS (SELECT 1 FROM pgflow_cpp.map_input_chunks AS k
                      WHERE k.run_id = c.run_id AND k.step_slug = c.step_slug)
  LOOP
    -- pg_column_size of the stored value does not detoast it: a small array costs two probes.
    IF src.deps_count = 0 THEN
      SELECT pg_column_size(r.input) INTO stored_size FROM pgflow.runs AS r WHERE r.run_id = src.run_id;
    ELSE
      SELECT pg_column_size(t.output) INTO stored_size
      FROM pgflow.step_tasks AS t
      WHERE t.run_id = src.run_id AND t.step_slug = src.dep_slug AND t.status = 'completed'
      LIMIT 1;
    END IF;
    CONTINUE WHEN coalesce(stored_size, 0) < 65536;
    INSERT INTO pgflow_cpp.map_input_chunks (run_id, step_slug, chunk, elements)
    SELECT src.run_id, src.step_slug, (e.ord - 1) / 100, jsonb_agg(e.value ORDER BY e.ord)
    FROM (SELECT CASE WHEN src.deps_count = 0
                      THEN (SELECT r.input FROM pgflow.runs AS r WHERE r.run_id = src.run_id)
                      ELSE pgflow_cpp.step_output(src.run_id, src.dep_slug, 'single')
                 END AS arr) AS a
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(a.arr) = 'array' THEN a.arr END)
      WITH ORDINALITY AS e(value, ord)
    GROUP BY (e.ord - 1) / 100
    ON CONFLICT DO NOTHING;
  END LOOP;
END;
$$;
