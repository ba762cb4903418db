-- pgflow_cpp.step_output(run_id, step_slug, step_type) -> jsonb
-- A completed step's output as the rest of the run sees it, as in pgflow 0.8.1: for a map step the
-- array of its completed tasks' outputs in task_index order ([] when it had none), for a single
-- step its task's output. The one definition behind dependents' task inputs (start_tasks), the
-- step:completed event (complete_task) and the run output (maybe_complete_run).
--
-- No jsonb_agg or jsonb_object_agg over outputs anywhere in sql/ (hygiene.sql_json_aggregates):
-- on PostgreSQL 15 and earlier both copy every string inside the values they aggregate with
-- snprintf("%s") over bytes that are not NUL-terminated, which scans on to the end of the value:
-- quadratic in the number of strings. Five task outputs of 300,000 short strings (54 MB) took 78 s
-- to aggregate that way, against 0.5 s with to_jsonb(array_agg(...)) for arrays and 1.0 s with
-- json_object_agg(...)::jsonb for objects (benchmarks/findings.md), which give the same
-- values and cost no more for small ones.
CREATE OR REPLACE FUNCTION pgflow_cpp.step_output(run_id uuid, step_slug text, step_type text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  -- By the primary key's prefix: COLLATE "C" is the same text equality, but it keeps the status
  -- test from implying the predicate of a partial index on status. With statistics taken while
  -- few tasks had completed, the planner otherwise scanned idx_step_tasks_finished_at (every
  -- completed or failed task of every run) for each call: 0.14 ms instead of 0.005 after 2,500
  -- tasks, growing with the table until the next ANALYZE.
  IF step_output.step_type = 'map' THEN
    -- to_jsonb(array_agg(...)), not jsonb_agg: see the note above.
    RETURN (SELECT coalesce(to_jsonb(array_agg(t.output ORDER BY t.task_index)), '[]'::jsonb)
            FROM pgflow.step_tasks AS t
            WHERE t.run_id = step_output.run_id AND t.step_slug = step_output.step_slug
              AND t.status = 'completed' COLLATE "C");
  END IF;
  RETURN (SELECT t.output
          FROM pgflow.step_tasks AS t
          WHERE t.run_id = step_output.run_id AND t.step_slug = step_output.step_slug
            AND t.status = 'completed' COLLATE "C"
          LIMIT 1);
END;
$$;

-- pgflow_cpp._run_output(run_id) -> jsonb
-- A completed run's output, as in pgflow 0.8.1: {leaf step slug: its output} over the run's
-- completed steps nobody depends on; NULL when there are none. For maybe_complete_run and
-- complete_tasks, which complete runs one at a time and set-wise.
CREATE OR REPLACE FUNCTION pgflow_cpp._run_output(run_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  -- json_object_agg(...)::jsonb, not jsonb_object_agg: see the note above.
  RETURN (SELECT json_object_agg(ss.step_slug, pgflow_cpp.step_output(ss.run_id, ss.step_slug, s.step_type))::jsonb
          FROM pgflow.step_states AS ss
          JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
          WHERE ss.run_id = _run_output.run_id
            AND ss.status = 'completed'
            AND NOT EXISTS (SELECT 1 FROM pgflow.deps AS d
                            WHERE d.flow_slug = ss.flow_slug AND d.dep_slug = ss.step_slug));
END;
$$;
