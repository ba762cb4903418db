-- pgflow_cpp.cancel_run(run_id) -> boolean (true: cancelled now; false: it already was)
-- (Addition: not in pgflow 0.8.1; upstream has only designed it.) Ends a started run as
-- cancelled: its queued and started tasks become 'cancelled' and their messages are archived,
-- the run becomes 'failed' in pgflow.runs (failed_at = the cancellation time, so workers and
-- clients written for pgflow 0.8.1 see a finished run) and pgflow_cpp.run_control.cancelled_at
-- records that it was cancelled, not failed (pgflow_cpp.run_status reports 'cancelled').
-- Events, in this order: step:<slug>:cancelled for each step that had active tasks (in step order;
-- {event_type: step:cancelled, run_id, step_slug, status: cancelled, cancelled_tasks, cancelled_at}),
-- then run:cancelled ({event_type, run_id, flow_slug, status: cancelled, cancelled_at}), then
-- run:failed in pgflow 0.8.1's shape (error_message 'cancelled') for listeners that know no
-- run:cancelled. The step_states rows are left as they were (a 'started' step keeps its status
-- and counters), as pgflow leaves the other steps of a failed run: the cancelled tasks and the
-- step:<slug>:cancelled events say what ended.
-- Then its child runs still running (subflow steps) are cancelled the same way, recursively, and
-- when the run is itself a child run its parent's wait is made due (pgflow_cpp.run_finished).
-- Afterwards a late complete_task / complete_tasks / fail_task / start_tasks of the run changes
-- nothing (the run is failed, its tasks cancelled): no event, no counter.
-- Errors: P0002 'Run <id> does not exist'; 55000 'Run <id> is completed|failed: only a started run
-- can be cancelled'. Cancelling a cancelled run returns false with a NOTICE, changing nothing.
-- Locks: the run's active tasks first (waiting for completions and claims in flight, which lock a
-- task before the run's row), then the run's row, then the tasks that became active meanwhile
-- (steps started by a completion that took the run's row first). When one of those is already
-- being completed by a session that waits for the run's row, the two deadlock; should this call be
-- the one PostgreSQL aborts (40P01), cancel_run undoes its part (a subtransaction) and tries again.
--
-- pgflow_cpp.cancel_run_once(run_id) is one such try (internal).
CREATE OR REPLACE FUNCTION pgflow_cpp.cancel_run_once(run_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  run_flow text;
  run_status text;
  cancelled_time timestamptz;
  step record;
BEGIN
  FOR attempt IN 1 .. 2 LOOP
    SELECT r.flow_slug, r.status INTO run_flow, run_status FROM pgflow.runs AS r WHERE r.run_id = cancel_run_once.run_id;
    IF run_flow IS NULL THEN
      RAISE EXCEPTION 'Run % does not exist', cancel_run_once.run_id USING ERRCODE = 'no_data_found';
    END IF;
    IF run_status = 'failed' AND EXISTS (SELECT 1 FROM pgflow_cpp.run_control AS c
                                         WHERE c.run_id = cancel_run_once.run_id AND c.cancelled_at IS NOT NULL) THEN
      RAISE NOTICE 'Run % is already cancelled', cancel_run_once.run_id;
      RETURN false;
    END IF;
    IF run_status <> 'started' THEN
      RAISE EXCEPTION 'Run % is %: only a started run can be cancelled', cancel_run_once.run_id, run_status
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXIT WHEN attempt = 2;

    PERFORM 1 FROM pgflow.step_tasks AS t
    WHERE t.run_id = cancel_run_once.run_id AND t.status IN ('queued', 'started')
    ORDER BY t.step_slug, t.task_index
    FOR NO KEY UPDATE;
    -- The run's row; whatever finished the run meanwhile (its last completion, a failure, another
    -- cancel) is seen by the second round of checks above.
    PERFORM 1 FROM pgflow.runs AS r WHERE r.run_id = cancel_run_once.run_id FOR NO KEY UPDATE;
  END LOOP;

  UPDATE pgflow.runs AS r SET status = 'failed', failed_at = greatest(now(), r.started_at)
  WHERE r.run_id = cancel_run_once.run_id
  RETURNING r.failed_at INTO cancelled_time;

  INSERT INTO pgflow_cpp.run_control AS c (run_id, flow_slug, cancelled_at)
  VALUES (cancel_run_once.run_id, run_flow, cancelled_time)
  ON CONFLICT ON CONSTRAINT run_control_pkey DO UPDATE SET cancelled_at = excluded.cancelled_at;

  FOR step IN
    SELECT a.step_slug, a.tasks
    FROM pgflow_cpp.cancel_active_tasks(cancel_run_once.run_id, run_flow, false) AS a
    JOIN pgflow.steps AS s ON s.flow_slug = run_flow AND s.step_slug = a.step_slug
    ORDER BY s.step_index
  LOOP
    PERFORM pgflow_cpp.broadcast(
      jsonb_build_object(
        'event_type', 'step:cancelled',
        'run_id', cancel_run_once.run_id,
        'step_slug', step.step_slug,
        'status', 'cancelled',
        'cancelled_tasks', step.tasks,
        'cancelled_at', cancelled_time
      ),
      'step:' || step.step_slug || ':cancelled',
      cancel_run_once.run_id);
  END LOOP;

  PERFORM pgflow_cpp.broadcast(
    jsonb_build_object(
      'event_type', 'run:cancelled',
      'run_id', cancel_run_once.run_id,
      'flow_slug', run_flow,
      'status', 'cancelled',
      'cancelled_at', cancelled_time
    ),
    'run:cancelled',
    cancel_run_once.run_id);
  -- The run is 'failed' in pgflow.runs: pgflow 0.8.1's listeners, which know no run:cancelled,
  -- learn that it ended from the run:failed they wait for (error_message 'cancelled').
  PERFORM pgflow_cpp.broadcast(
    jsonb_build_object(
      'event_type', 'run:failed',
      'run_id', cancel_run_once.run_id,
      'flow_slug', run_flow,
      'status', 'failed',
      'error_message', 'cancelled',
      'failed_at', cancelled_time
    ),
    'run:failed',
    cancel_run_once.run_id);
  -- Its child runs (subflows) are cancelled too, recursively; a child's parent learns it ended.
  PERFORM pgflow_cpp.run_finished(cancel_run_once.run_id);
  RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.cancel_run(run_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
BEGIN
  FOR attempt IN 1 .. 3 LOOP
    BEGIN
      RETURN pgflow_cpp.cancel_run_once(cancel_run.run_id);
    EXCEPTION WHEN deadlock_detected THEN
      IF attempt = 3 THEN
        RAISE;
      END IF;
    END;
  END LOOP;
END;
$$;
