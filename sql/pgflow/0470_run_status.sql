-- pgflow_cpp.run_status(run_id) -> table (flow_slug, status, cancelled_at, restart_of_run_id,
--   restart_kind, restarted_as_run_id, restarted_as_kind, idempotency_key)
-- (Addition: not in pgflow 0.8.1.) A run's state as pgflow-cpp's run control sees it: status is
-- pgflow.runs.status ('started', 'completed', 'failed'), or 'cancelled' for a run cancel_run
-- ended (its pgflow.runs.status is 'failed'), or 'waiting' for a run held back by its flow's run
-- limits (pgflow_cpp.set_flow_limits; 'started' in pgflow.runs, no step started yet); restart_of_* names the run this one retries or
-- resumes, restarted_as_* the run that retried or resumed this one (NULL when none). No row for an
-- unknown run_id. Read-only; runs as the owner only to read pgflow_cpp.run_control.
CREATE OR REPLACE FUNCTION pgflow_cpp.run_status(run_id uuid)
RETURNS TABLE (flow_slug text, status text, cancelled_at timestamptz, restart_of_run_id uuid,
               restart_kind text, restarted_as_run_id uuid, restarted_as_kind text, idempotency_key text)
LANGUAGE sql
STABLE
SECURITY DEFINER  -- reads pgflow_cpp.run_control, which only the owner may: see 0950_privileges.sql
SET search_path = ''
AS $$
  SELECT r.flow_slug,
         CASE WHEN c.cancelled_at IS NOT NULL AND r.status = 'failed' THEN 'cancelled'
              WHEN r.status = 'started' AND EXISTS (SELECT 1 FROM pgflow_cpp.limited_runs AS w
                                                    WHERE w.run_id = r.run_id AND w.admitted_at IS NULL) THEN 'waiting'
              ELSE r.status END,
         c.cancelled_at, c.restart_of_run_id, c.restart_kind, n.run_id, n.restart_kind, c.idempotency_key
  FROM pgflow.runs AS r
  LEFT JOIN pgflow_cpp.run_control AS c ON c.run_id = r.run_id
  LEFT JOIN pgflow_cpp.run_control AS n ON n.restart_of_run_id = r.run_id
  WHERE r.run_id = run_status.run_id;
$$;
