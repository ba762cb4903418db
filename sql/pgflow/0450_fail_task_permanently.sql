-- pgflow_cpp.fail_task_permanently(run_id, step_slug, task_index, error_message) -> setof pgflow.step_tasks
-- (Addition: not in pgflow 0.8.1.) pgflow.fail_task for an error that no retry can cure (a
-- handler's permanent error): a started task is exhausted at once whatever attempts remain, and
-- its step ends exactly as an exhausted task's does under its when_exhausted ('fail': step and run
-- fail, step:failed and run:failed, the run's other active tasks cancelled, messages archived;
-- 'skip' / 'skip-cascade': the step, or it and its dependents, skipped with skip_reason
-- 'handler_failed'). Anything else is as fail_task: a task that is not 'started', or of a failed
-- (or cancelled) run, is not re-queued and no event is sent. Returns the task row.
-- The body is pgflow_cpp.fail_task_internal (0249), shared with fail_task.
CREATE OR REPLACE FUNCTION pgflow_cpp.fail_task_permanently(run_id uuid, step_slug text, task_index integer,
                                                            error_message text)
RETURNS SETOF pgflow.step_tasks
LANGUAGE sql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
  SELECT * FROM pgflow_cpp.fail_task_internal(fail_task_permanently.run_id, fail_task_permanently.step_slug,
                                              fail_task_permanently.task_index, fail_task_permanently.error_message,
                                              true);
$$;
