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

-- pgflow_cpp.chunk_map_input(run_id, step_slug, source) -> integer
-- Copies the map step's source array into map_input_chunks (the chunks it inserted; 0 when another
-- claim did it first). Called by pgflow_cpp.claim_tasks for a source array stored as 64 kB or more
-- that has no chunks yet; that claim takes its own tasks' elements from the array it has, the
-- next claims read the chunks. Two claims chunking the same step at once: the second waits on the
-- first's rows and then inserts nothing (ON CONFLICT). Called once per large map step, not per claim.
CREATE OR REPLACE FUNCTION pgflow_cpp.chunk_map_input(run_id uuid, step_slug text, source jsonb)
RETURNS integer
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
  WITH inserted AS (
    INSERT INTO pgflow_cpp.map_input_chunks (run_id, step_slug, chunk, elements)
    SELECT chunk_map_input.run_id, chunk_map_input.step_slug, (e.ord - 1) / 100,
           to_jsonb(array_agg(e.value ORDER BY e.ord))  -- not jsonb_agg: see 0080_step_output.sql
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(chunk_map_input.source) = 'array' THEN chunk_map_input.source END)
      WITH ORDINALITY AS e(value, ord)
    GROUP BY (e.ord - 1) / 100
    ON CONFLICT DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::integer FROM inserted
$$;
