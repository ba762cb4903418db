-- pgflow_cpp.fail_task_permanently(run_id, step_slug, task_index, error_message) -> setof pgflow.step_tasks
-- (Addition: not in pgflow 0.8.1.) pgflow.fail_task for an error that no retry can cure (a
-- handler's permanent error): a started task fails at once whatever attempts remain, which fails
-- its step and run exactly as an exhausted task does (error stored as usual, step:failed and
-- run:failed, the run's other active tasks cancelled, messages archived). Anything else is as
-- fail_task: a task that is not 'started', or of a failed (or cancelled) run, is not re-queued and
-- no event is sent. Returns the task row.
CREATE OR REPLACE FUNCTION pgflow_cpp.fail_task_permanently(run_id uuid, step_slug text, task_index integer,
                                                            error_message text)
RETURNS SETOF pgflow.step_tasks
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
BEGIN
  -- Transaction-local, and undone with the subtransaction when fail_task raises.
  PERFORM set_config('pgflow_cpp.fail_permanently', 'on', true);
  RETURN QUERY SELECT * FROM pgflow.fail_task(fail_task_permanently.run_id, fail_task_permanently.step_slug,
                                              fail_task_permanently.task_index, fail_task_permanently.error_message);
  PERFORM set_config('pgflow_cpp.fail_permanently', 'off', true);
END;
$$;
