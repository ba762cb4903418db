-- pgflow_cpp.fail_task_attempt(run_id, step_slug, task_index, attempt, worker_id, error_message)
--   -> integer (1 when the attempt was failed, 0 when it was no longer that worker's)
-- (Addition: not in pgflow 0.8.1.) pgflow.fail_task for one attempt only: the task is failed
-- only while it is still `started` as attempt `attempt` of worker `worker_id`. A worker that
-- abandons a handler past its timeout uses it, so that a task claimed again elsewhere in the
-- meantime is never failed by the worker that gave it up. The row lock orders it against claims.
-- The failure is fail_task's (0249's shared body): retried while attempts are left, and an
-- exhausted task ends its step as when_exhausted says (fail, skip or skip-cascade).
CREATE OR REPLACE FUNCTION pgflow_cpp.fail_task_attempt(
  run_id uuid, step_slug text, task_index integer, attempt integer, worker_id uuid, error_message text)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
BEGIN
  PERFORM 1 FROM pgflow.step_tasks AS t
  WHERE t.run_id = fail_task_attempt.run_id AND t.step_slug = fail_task_attempt.step_slug
    AND t.task_index = fail_task_attempt.task_index AND t.status = 'started'
    AND t.last_worker_id = fail_task_attempt.worker_id AND t.attempts_count = fail_task_attempt.attempt
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM pgflow_cpp.fail_task_internal(fail_task_attempt.run_id, fail_task_attempt.step_slug,
                                        fail_task_attempt.task_index, fail_task_attempt.error_message, false);
  RETURN 1;
END;
$$;
