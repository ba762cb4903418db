-- pgflow.fail_task(run_id, step_slug, task_index, error_message) -> setof pgflow.step_tasks
-- Records a failed attempt of a started task. With attempts left the task is re-queued and its
-- message hidden for calculate_retry_delay(base_delay, attempts_count) seconds (a zero delay also
-- sends the queue wake-up pgflow:queue:<flow_slug>, as new tasks do). Otherwise the
-- task, its step and the run fail (step:failed, then run:failed), the run's other queued or
-- started tasks become 'cancelled' (pgflow 0.15.1) and every message of them is archived. On an already failed run a started task is just marked failed
-- and its message archived. A task that is not 'started' is left as it is. Returns the task row.
-- Times are now(), or the row's own start when another transaction started it after this one
-- began (the tables' ordering CHECKs always hold); events carry the stored times.
CREATE OR REPLACE FUNCTION pgflow.fail_task(run_id uuid, step_slug text, task_index integer, error_message text)
RETURNS SETOF pgflow.step_tasks
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  run_flow text;
  run_status text;
  max_attempts integer;
  base_delay integer;
  retry_delay integer;
  task record;
  step_failed_time timestamptz;
  run_failed_time timestamptz;
BEGIN
  SELECT r.flow_slug, r.status INTO run_flow, run_status
  FROM pgflow.runs AS r WHERE r.run_id = fail_task.run_id;

  IF run_status = 'failed' THEN
    UPDATE pgflow.step_tasks AS t
    SET status = 'failed', failed_at = greatest(now(), t.queued_at, t.started_at),
        error_message = fail_task.error_message
    WHERE t.run_id = fail_task.run_id AND t.step_slug = fail_task.step_slug
      AND t.task_index = fail_task.task_index AND t.status = 'started' COLLATE "C";

    PERFORM pgmq.archive(run_flow, t.message_id)
    FROM pgflow.step_tasks AS t
    WHERE t.run_id = fail_task.run_id AND t.step_slug = fail_task.step_slug
      AND t.task_index = fail_task.task_index AND t.message_id IS NOT NULL;

    RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
      WHERE t.run_id = fail_task.run_id AND t.step_slug = fail_task.step_slug
        AND t.task_index = fail_task.task_index;
    RETURN;
  END IF;

  SELECT coalesce(s.opt_max_attempts, f.opt_max_attempts), coalesce(s.opt_base_delay, f.opt_base_delay)
  INTO max_attempts, base_delay
  FROM pgflow.steps AS s
  JOIN pgflow.flows AS f ON f.flow_slug = s.flow_slug
  WHERE s.flow_slug = run_flow AND s.step_slug = fail_task.step_slug;
  -- Set (transaction-locally) only by pgflow_cpp.fail_task_permanently: no attempt is left.
  IF current_setting('pgflow_cpp.fail_permanently', true) = 'on' THEN
    max_attempts := 0;
  END IF;

  -- COLLATE "C" (here and above): the task by its primary key, never by a scan of the partial
  -- index of started tasks (see complete_task).
  UPDATE pgflow.step_tasks AS t
  SET status = CASE WHEN t.attempts_count < max_attempts THEN 'queued' ELSE 'failed' END,
      failed_at = CASE WHEN t.attempts_count < max_attempts THEN NULL
                       ELSE greatest(now(), t.queued_at, t.started_at) END,
      started_at = CASE WHEN t.attempts_count < max_attempts THEN NULL ELSE t.started_at END,
      error_message = fail_task.error_message
  WHERE t.run_id = fail_task.run_id AND t.step_slug = fail_task.step_slug
    AND t.task_index = fail_task.task_index AND t.status = 'started' COLLATE "C"
  RETURNING t.status, t.attempts_count, t.message_id INTO task;

  IF task.status = 'queued' THEN
    UPDATE pgflow.step_states AS ss
    SET failed_at = NULL, error_message = NULL
    WHERE ss.run_id = fail_task.run_id AND ss.step_slug = fail_task.step_slug;

    IF task.message_id IS NOT NULL THEN
      retry_delay := pgflow.calculate_retry_delay(base_delay, task.attempts_count);
      PERFORM pgmq.set_vt(run_flow, task.message_id, retry_delay);
      -- Visible at once: wake idle workers, as start_ready_steps does for new tasks.
      IF retry_delay <= 0 THEN
        PERFORM pgflow_cpp.notify('pgflow:queue:' || run_flow, '');
      END IF;
    END IF;

  ELSIF task.status = 'failed' THEN
    UPDATE pgflow.step_states AS ss
    SET status = 'failed', failed_at = greatest(now(), ss.started_at), error_message = fail_task.error_message
    WHERE ss.run_id = fail_task.run_id AND ss.step_slug = fail_task.step_slug
    RETURNING ss.failed_at INTO step_failed_time;

    UPDATE pgflow.runs AS r SET status = 'failed', failed_at = greatest(now(), r.started_at)
    WHERE r.run_id = fail_task.run_id
    RETURNING r.failed_at INTO run_failed_time;

    PERFORM pgflow_cpp.broadcast(
      jsonb_build_object(
        'event_type', 'step:failed',
        'run_id', fail_task.run_id,
        'step_slug', fail_task.step_slug,
        'status', 'failed',
        'error_message', fail_task.error_message,
        'failed_at', step_failed_time
      ),
      'step:' || fail_task.step_slug || ':failed',
      fail_task.run_id);

    PERFORM pgflow_cpp.broadcast(
      jsonb_build_object(
        'event_type', 'run:failed',
        'run_id', fail_task.run_id,
        'flow_slug', run_flow,
        'status', 'failed',
        'error_message', fail_task.error_message,
        'failed_at', run_failed_time
      ),
      'run:failed',
      fail_task.run_id);

    -- The run is over: no other task of it may be picked up (the failed one's message included).
    -- pgflow 0.15.1: its other active tasks are cancelled (and their messages archived) first.
    PERFORM pgflow_cpp.cancel_active_tasks(fail_task.run_id, run_flow, true);
    PERFORM pgmq.archive(run_flow, array_agg(t.message_id))
    FROM pgflow.step_tasks AS t
    WHERE t.run_id = fail_task.run_id
      AND (t.status IN ('queued', 'started')
           OR (t.step_slug = fail_task.step_slug AND t.task_index = fail_task.task_index))
      AND t.message_id IS NOT NULL
    HAVING count(*) > 0;
  END IF;

  RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
    WHERE t.run_id = fail_task.run_id AND t.step_slug = fail_task.step_slug
      AND t.task_index = fail_task.task_index;
END;
$$;
