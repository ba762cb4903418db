-- pgflow_cpp.fail_task_internal(run_id, step_slug, task_index, error_message, permanently)
--   -> setof pgflow.step_tasks
-- (Internal.) The one body of every task failure: pgflow.fail_task (permanently => false),
-- pgflow_cpp.fail_task_permanently (true: no attempt is left, whatever max_attempts says), and
-- through fail_task the abandoned (fail_task_attempt) and timed-out (start_tasks) attempts. A
-- started task with attempts left is re-queued (fail_task's back-off). An exhausted one ends its
-- step as the step's when_exhausted says (pgflow 0.14 with 0.15.1's task statuses):
--   'fail'         the step and the run fail (step:failed, run:failed); the run's other active
--                  tasks are cancelled and every message of the run is archived;
--   'skip'         the step is skipped (skip_reason 'handler_failed', the error kept), its other
--                  active tasks skipped and their messages archived, one step:skipped; its
--                  dependents lose one remaining dependency (a dependent map learns it is empty),
--                  conditions are resolved, taskless steps completed, ready steps started;
--   'skip-cascade' the step is skipped likewise and so is every step that depends on it
--                  (_cascade_force_skip_steps, reason 'dependency_skipped');
-- either skip counts the step off the run once and completes the run when nothing is left.
-- Late calls change no counter and send no event: on a failed (or cancelled) run the task, if
-- still active, becomes 'cancelled' and its message is archived; a started task of a step that
-- is no longer started (skipped by a sibling's failure) becomes 'skipped' and its message is
-- archived; a task that is not started is left as it is. Returns the task row (none when unknown).
-- Locks, in this order (as complete_task): the task, its step's state, the run's row, then the
-- run's steps that have not started. The step's other tasks are taken SKIP LOCKED: a session
-- holding one (a sibling's completion or failure) waits for the step's state, and then finds the
-- step no longer started.
CREATE OR REPLACE FUNCTION pgflow_cpp.fail_task_internal(run_id uuid, step_slug text, task_index integer,
                                                         error_message text, permanently boolean)
RETURNS SETOF pgflow.step_tasks
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  run_flow text;
  run_status text;
  step_status text;
  task record;
  max_attempts integer;
  base_delay integer;
  exhausted_mode text;
  retry_delay integer;
BEGIN
  SELECT r.flow_slug, r.status INTO run_flow, run_status
  FROM pgflow.runs AS r WHERE r.run_id = fail_task_internal.run_id;

  SELECT t.status, t.message_id INTO task
  FROM pgflow.step_tasks AS t
  WHERE t.run_id = fail_task_internal.run_id AND t.step_slug = fail_task_internal.step_slug
    AND t.task_index = fail_task_internal.task_index
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  -- (Not only for a started run: a task a sibling's skip left to a claim in flight can outlive a
  -- run that completed without its skipped step.)
  IF run_status <> 'failed' AND task.status = 'started' THEN
    SELECT ss.status INTO step_status
    FROM pgflow.step_states AS ss
    WHERE ss.run_id = fail_task_internal.run_id AND ss.step_slug = fail_task_internal.step_slug
    FOR NO KEY UPDATE;
    -- Again under the lock: a run failed or cancelled meanwhile keeps its state and events.
    SELECT r.status INTO run_status
    FROM pgflow.runs AS r WHERE r.run_id = fail_task_internal.run_id
    FOR NO KEY UPDATE;
  END IF;

  IF run_status = 'failed' OR (task.status = 'started' AND step_status <> 'started') THEN
    -- Cancellation (or the sibling's skip) wins: the task ends as the run's or step's other tasks
    -- did, when the session that ended them had to leave it to this one.
    IF task.status IN ('queued', 'started') THEN
      UPDATE pgflow.step_tasks AS t
      SET status = CASE WHEN run_status = 'failed' THEN 'cancelled' ELSE 'skipped' END
      WHERE t.run_id = fail_task_internal.run_id AND t.step_slug = fail_task_internal.step_slug
        AND t.task_index = fail_task_internal.task_index;
      IF task.message_id IS NOT NULL THEN
        PERFORM pgmq.archive(run_flow, task.message_id);
      END IF;
      PERFORM pgflow_cpp._release_task_slots(ARRAY[fail_task_internal.run_id], ARRAY[fail_task_internal.step_slug],
                                             ARRAY[fail_task_internal.task_index]);
    END IF;
  ELSIF task.status = 'started' THEN
    SELECT coalesce(s.opt_max_attempts, f.opt_max_attempts), coalesce(s.opt_base_delay, f.opt_base_delay),
           s.when_exhausted
    INTO max_attempts, base_delay, exhausted_mode
    FROM pgflow.steps AS s
    JOIN pgflow.flows AS f ON f.flow_slug = s.flow_slug
    WHERE s.flow_slug = run_flow AND s.step_slug = fail_task_internal.step_slug;
    IF permanently THEN
      max_attempts := 0;
    END IF;

    UPDATE pgflow.step_tasks AS t
    SET status = CASE WHEN t.attempts_count < max_attempts THEN 'queued' ELSE 'failed' END,
        failed_at = CASE WHEN t.attempts_count < max_attempts THEN NULL
                         ELSE greatest(now(), t.queued_at, t.started_at) END,
        started_at = CASE WHEN t.attempts_count < max_attempts THEN NULL ELSE t.started_at END,
        error_message = fail_task_internal.error_message
    WHERE t.run_id = fail_task_internal.run_id AND t.step_slug = fail_task_internal.step_slug
      AND t.task_index = fail_task_internal.task_index
    RETURNING t.status, t.attempts_count, t.message_id INTO task;

    -- Its slot under a step concurrency limit goes now, and a task refused for want of it is
    -- shown at once (as complete_task does).
    PERFORM pgflow_cpp._release_task_slots(ARRAY[fail_task_internal.run_id], ARRAY[fail_task_internal.step_slug],
                                           ARRAY[fail_task_internal.task_index]);

    IF task.status = 'queued' THEN
      UPDATE pgflow.step_states AS ss
      SET failed_at = NULL, error_message = NULL
      WHERE ss.run_id = fail_task_internal.run_id AND ss.step_slug = fail_task_internal.step_slug;
      IF task.message_id IS NOT NULL THEN
        retry_delay := pgflow.calculate_retry_delay(base_delay, task.attempts_count);
        PERFORM pgmq.set_vt(run_flow, task.message_id, retry_delay);
        -- Visible at once: wake idle workers, as start_ready_steps does for new tasks.
        IF retry_delay <= 0 THEN
          PERFORM pgflow_cpp.notify('pgflow:queue:' || run_flow, '');
        END IF;
      END IF;
    ELSIF exhausted_mode = 'fail' THEN
      PERFORM pgflow_cpp.fail_exhausted_step(fail_task_internal.run_id, run_flow, fail_task_internal.step_slug,
                                             fail_task_internal.task_index, fail_task_internal.error_message);
      -- A child run's parent learns of the failure; the run's own child runs are cancelled.
      PERFORM pgflow_cpp.run_finished(fail_task_internal.run_id);
    ELSE
      PERFORM pgflow_cpp.skip_exhausted_step(fail_task_internal.run_id, run_flow, fail_task_internal.step_slug,
                                             task.message_id, fail_task_internal.error_message,
                                             exhausted_mode = 'skip-cascade');
    END IF;
  END IF;

  RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
    WHERE t.run_id = fail_task_internal.run_id AND t.step_slug = fail_task_internal.step_slug
      AND t.task_index = fail_task_internal.task_index;
END;
$$;
