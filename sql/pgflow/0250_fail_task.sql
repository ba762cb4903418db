-- pgflow.fail_task(run_id, step_slug, task_index, error_message) -> setof pgflow.step_tasks
-- Records a failed attempt of a started task. With attempts left the task is re-queued and its
-- message hidden for calculate_retry_delay(base_delay, attempts_count) seconds (a zero delay also
-- sends the queue wake-up pgflow:queue:<flow_slug>, as new tasks do). An exhausted task ends its
-- step as the step's when_exhausted says (pgflow 0.14): 'fail' (the default) fails the step and
-- the run (step:failed, then run:failed; the run's other active tasks 'cancelled', pgflow 0.15.1,
-- and every message of the run archived); 'skip' skips the step (step:skipped, skip_reason
-- 'handler_failed') and the run goes on without it; 'skip-cascade' also skips its dependents.
-- Late calls (a failed or cancelled run, a step skipped meanwhile, a task that is not 'started')
-- change no counter and send no event. Returns the task row.
-- The body is pgflow_cpp.fail_task_internal (0249), shared with fail_task_permanently.
CREATE OR REPLACE FUNCTION pgflow.fail_task(run_id uuid, step_slug text, task_index integer, error_message text)
RETURNS SETOF pgflow.step_tasks
LANGUAGE sql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
  SELECT * FROM pgflow_cpp.fail_task_internal(fail_task.run_id, fail_task.step_slug, fail_task.task_index,
                                              fail_task.error_message, false);
$$;
