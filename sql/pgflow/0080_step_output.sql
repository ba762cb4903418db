-- pgflow_cpp.step_output(run_id, step_slug, step_type) -> jsonb
-- A completed step's output as the rest of the run sees it, as in pgflow 0.8.1: for a map step the
-- array of its completed tasks' outputs in task_index order ([] when it had none), for a single
-- step its task's output. The one definition behind dependents' task inputs (start_tasks), the
-- step:completed event (complete_task) and the run output (maybe_complete_run).
CREATE OR REPLACE FUNCTION pgflow_cpp.step_output(run_id uuid, step_slug text, step_type text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  IF step_output.step_type = 'map' THEN
    RETURN (SELECT coalesce(jsonb_agg(t.output ORDER BY t.task_index), '[]'::jsonb)
            FROM pgflow.step_tasks AS t
            WHERE t.run_id = step_output.run_id AND t.step_slug = step_output.step_slug AND t.status = 'completed');
  END IF;
  RETURN (SELECT t.output
          FROM pgflow.step_tasks AS t
          WHERE t.run_id = step_output.run_id AND t.step_slug = step_output.step_slug AND t.status = 'completed'
          LIMIT 1);
END;
$$;
