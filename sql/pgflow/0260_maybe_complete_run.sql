-- pgflow.maybe_complete_run(run_id) -> void
-- Completes a started run whose remaining_steps is 0: status 'completed', completed_at, and output
-- = {leaf step slug: its output} over the completed steps nobody depends on (NULL when there are
-- none); then broadcasts run:completed and, for a subflow's child run, makes its parent's wait due
-- (pgflow_cpp.run_finished). Otherwise does nothing.
CREATE OR REPLACE FUNCTION pgflow.maybe_complete_run(run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  completed pgflow.runs;
BEGIN
  UPDATE pgflow.runs AS r
  SET status = 'completed',
      completed_at = greatest(now(), r.started_at),
      output = (
        -- json_object_agg(...)::jsonb, not jsonb_object_agg: see 0080_step_output.sql.
        SELECT json_object_agg(ss.step_slug, pgflow_cpp.step_output(ss.run_id, ss.step_slug, s.step_type))::jsonb
        FROM pgflow.step_states AS ss
        JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
        WHERE ss.run_id = r.run_id
          AND ss.status = 'completed'
          AND NOT EXISTS (SELECT 1 FROM pgflow.deps AS d
                          WHERE d.flow_slug = ss.flow_slug AND d.dep_slug = ss.step_slug)
      )
  WHERE r.run_id = maybe_complete_run.run_id
    AND r.remaining_steps = 0
    AND r.status = 'started'
  RETURNING * INTO completed;

  IF completed.run_id IS NOT NULL THEN
    PERFORM pgflow_cpp.broadcast(
      jsonb_build_object(
        'event_type', 'run:completed',
        'run_id', completed.run_id,
        'flow_slug', completed.flow_slug,
        'status', 'completed',
        'output', completed.output,
        'completed_at', completed.completed_at
      ),
      'run:completed',
      completed.run_id);
    PERFORM pgflow_cpp.run_finished(completed.run_id);
  END IF;
END;
$$;
