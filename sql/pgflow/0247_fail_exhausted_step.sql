-- pgflow_cpp.fail_exhausted_step(run_id, flow_slug, step_slug, task_index, error_message) -> void
-- (Internal; fail_task_internal's when_exhausted 'fail'.) The task (already 'failed') took its
-- attempts with it: its step and run fail with error_message (step:failed, then run:failed), the
-- run's other active tasks become 'cancelled' (pgflow 0.15.1) and every message of them and of the
-- failed task is archived. The caller holds the task, the step's state and the run's row.
-- Times are now(), or the row's own start when another transaction started it after this one
-- began (the tables' ordering CHECKs always hold); events carry the stored times.
CREATE OR REPLACE FUNCTION pgflow_cpp.fail_exhausted_step(run_id uuid, flow_slug text, step_slug text,
                                                          task_index integer, error_message text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  step_failed_time timestamptz;
  run_failed_time timestamptz;
BEGIN
  UPDATE pgflow.step_states AS ss
  SET status = 'failed', failed_at = greatest(now(), ss.started_at), error_message = fail_exhausted_step.error_message
  WHERE ss.run_id = fail_exhausted_step.run_id AND ss.step_slug = fail_exhausted_step.step_slug
  RETURNING ss.failed_at INTO step_failed_time;

  UPDATE pgflow.runs AS r SET status = 'failed', failed_at = greatest(now(), r.started_at)
  WHERE r.run_id = fail_exhausted_step.run_id
  RETURNING r.failed_at INTO run_failed_time;

  PERFORM pgflow_cpp.broadcast(
    jsonb_build_object(
      'event_type', 'step:failed',
      'run_id', fail_exhausted_step.run_id,
      'step_slug', fail_exhausted_step.step_slug,
      'status', 'failed',
      'error_message', fail_exhausted_step.error_message,
      'failed_at', step_failed_time
    ),
    'step:' || fail_exhausted_step.step_slug || ':failed',
    fail_exhausted_step.run_id);

  PERFORM pgflow_cpp.broadcast(
    jsonb_build_object(
      'event_type', 'run:failed',
      'run_id', fail_exhausted_step.run_id,
      'flow_slug', fail_exhausted_step.flow_slug,
      'status', 'failed',
      'error_message', fail_exhausted_step.error_message,
      'failed_at', run_failed_time
    ),
    'run:failed',
    fail_exhausted_step.run_id);

  -- The run is over: no other task of it may be picked up (the failed one's message included).
  -- Tasks another session holds are left to it (skip locked): it finds the run failed.
  PERFORM pgflow_cpp.cancel_active_tasks(fail_exhausted_step.run_id, fail_exhausted_step.flow_slug, true);
  PERFORM pgmq.archive(fail_exhausted_step.flow_slug, array_agg(t.message_id))
  FROM pgflow.step_tasks AS t
  WHERE t.run_id = fail_exhausted_step.run_id
    AND (t.status IN ('queued', 'started')
         OR (t.step_slug = fail_exhausted_step.step_slug AND t.task_index = fail_exhausted_step.task_index))
    AND t.message_id IS NOT NULL
  HAVING count(*) > 0;
END;
$$;
