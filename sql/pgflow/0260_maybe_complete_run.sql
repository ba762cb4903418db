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
      output = pgflow_cpp._run_output(r.run_id)
  WHERE r.run_id = maybe_complete_run.run_id
    AND r.remaining_steps = 0
    AND r.status = 'started'
  RETURNING * INTO completed;

  IF completed.run_id IS NOT NULL THEN
    PERFORM pgflow_cpp.broadcast(
      pgflow_cpp._run_completed_event(completed.run_id, completed.flow_slug, completed.output, completed.completed_at),
      'run:completed',
      completed.run_id);
    PERFORM pgflow_cpp.run_finished(completed.run_id);
  END IF;
END;
$$;
