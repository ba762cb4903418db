-- pgflow_cpp.wake_wait(run_id, step_slug, task_index) -> void
-- (Internal; wake_due_waits, whose caller holds the wait.) Acts on one due wait:
--   sleep    the task completes with output to_jsonb(until);
--   signal   the attempt fails: 'Signal "<step>" was not received within <n> s' (fail_task_internal:
--            a task with attempts left waits again at once, for a new timeout; an exhausted one
--            fails or skips its step per when_exhausted);
--   subflow  the child run completed: the task completes with the child's output; it failed:
--            the attempt fails with 'Child run <id> of flow "<slug>" failed: <its first error>'
--            (with attempts left, a new child run starts after calculate_retry_delay(base_delay,
--            attempts)); no child (that retry is due): a new child run starts; a child that could
--            not start fails the attempt with why; a child still running is looked at again in 5
--            minutes (a safety net: its end makes the wait due).
-- A wait whose task no longer waits (cancelled or skipped with its run or step) is deleted; its
-- child run, if still running, is cancelled.
CREATE OR REPLACE FUNCTION pgflow_cpp.wake_wait(run_id uuid, step_slug text, task_index integer)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  w pgflow_cpp.waits;
  task record;
  kind pgflow_cpp.step_kinds;
  child record;
  failure text;
  base_delay integer;
BEGIN
  SELECT * INTO w FROM pgflow_cpp.waits AS x
  WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
  SELECT t.status, t.attempts_count, r.status AS run_status, r.flow_slug INTO task
  FROM pgflow.step_tasks AS t JOIN pgflow.runs AS r ON r.run_id = t.run_id
  WHERE t.run_id = wake_wait.run_id AND t.step_slug = wake_wait.step_slug AND t.task_index = wake_wait.task_index
  FOR NO KEY UPDATE OF t;

  IF task.status IS DISTINCT FROM 'queued' OR task.run_status <> 'started' THEN
    DELETE FROM pgflow_cpp.waits AS x
    WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
    IF w.child_run_id IS NOT NULL AND (SELECT r.status FROM pgflow.runs AS r WHERE r.run_id = w.child_run_id) = 'started' THEN
      BEGIN
        PERFORM pgflow_cpp.cancel_run(w.child_run_id);
      EXCEPTION WHEN object_not_in_prerequisite_state THEN
        NULL;  -- it ended meanwhile
      END;
    END IF;
    RETURN;
  END IF;
  SELECT * INTO kind FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = task.flow_slug AND k.step_slug = wake_wait.step_slug;

  IF w.kind = 'sleep' THEN
    DELETE FROM pgflow_cpp.waits AS x
    WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
    PERFORM pgflow_cpp.resolve_wait(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, w.waiting_since, false);
    PERFORM pgflow.complete_task(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, to_jsonb(w.wake_at));
    RETURN;
  ELSIF w.kind = 'signal' THEN
    IF kind.signal_timeout IS NULL THEN  -- the timeout was removed since the wait began
      UPDATE pgflow_cpp.waits AS x SET wake_at = NULL
      WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
      RETURN;
    END IF;
    failure := format('Signal "%s" was not received within %s s', wake_wait.step_slug, kind.signal_timeout);
  ELSIF w.start_error IS NOT NULL THEN
    failure := w.start_error;
  ELSIF w.child_run_id IS NULL THEN
    PERFORM pgflow_cpp.start_child_run(wake_wait.run_id, task.flow_slug, wake_wait.step_slug, wake_wait.task_index);
    RETURN;
  ELSE
    SELECT r.status, r.output, r.flow_slug INTO child FROM pgflow.runs AS r WHERE r.run_id = w.child_run_id;
    IF child.status = 'started' THEN
      UPDATE pgflow_cpp.waits AS x SET wake_at = now() + interval '5 minutes'
      WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
      RETURN;
    ELSIF child.status = 'completed' THEN
      DELETE FROM pgflow_cpp.waits AS x
      WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
      PERFORM pgflow_cpp.resolve_wait(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, w.waiting_since, true);
      PERFORM pgflow.complete_task(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, child.output);
      RETURN;
    END IF;
    failure := format('Child run %s of flow "%s" failed: %s', w.child_run_id, child.flow_slug, coalesce(
      (SELECT 'cancelled' FROM pgflow_cpp.run_control AS c WHERE c.run_id = w.child_run_id AND c.cancelled_at IS NOT NULL),
      (SELECT ss.error_message FROM pgflow.step_states AS ss
       WHERE ss.run_id = w.child_run_id AND ss.status = 'failed' AND ss.error_message IS NOT NULL
       ORDER BY ss.failed_at, ss.step_slug LIMIT 1),
      'no error recorded'));
  END IF;

  -- The attempt failed: the task is failed like a handler's (retry, or its step fails or is skipped).
  PERFORM pgflow_cpp.resolve_wait(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, w.waiting_since, true);
  SELECT t.status, t.attempts_count INTO task
  FROM pgflow_cpp.fail_task_internal(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, failure, false) AS t;
  IF task.status = 'queued' AND w.kind = 'signal' THEN
    PERFORM pgflow_cpp.open_wait(wake_wait.run_id, wake_wait.step_slug, wake_wait.task_index, 'signal',
                                 now() + make_interval(secs => kind.signal_timeout), NULL);
  ELSIF task.status = 'queued' THEN
    SELECT coalesce(s.opt_base_delay, f.opt_base_delay) INTO base_delay
    FROM pgflow.steps AS s JOIN pgflow.flows AS f ON f.flow_slug = s.flow_slug
    WHERE s.flow_slug = kind.flow_slug AND s.step_slug = wake_wait.step_slug;
    UPDATE pgflow_cpp.waits AS x
    SET child_run_id = NULL, start_error = NULL, waiting_since = now(),
        wake_at = now() + make_interval(secs => pgflow.calculate_retry_delay(base_delay, task.attempts_count))
    WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
  ELSE
    DELETE FROM pgflow_cpp.waits AS x
    WHERE x.run_id = wake_wait.run_id AND x.step_slug = wake_wait.step_slug AND x.task_index = wake_wait.task_index;
  END IF;
END;
$$;

-- pgflow_cpp.wake_due_waits(max_count = 100) -> integer
-- (Addition.) Acts on up to max_count waits whose wake_at has passed, earliest first (wake_wait:
-- sleeps end, signal timeouts, subflow tasks whose child run ended or whose retry is due) and
-- returns how many it handled. Workers call it from their poll loop; several sessions at once
-- share the work: each wait is taken SKIP LOCKED, so it is handled once. A wait whose handling
-- fails (an error in a cascade it starts) is left for a minute, with a WARNING, and counted.
-- Locks: the wait, then its task (the order of pgflow_cpp.signal), then what completing or
-- failing the task takes.
-- Errors: 22023 max_count NULL or below 1.
CREATE OR REPLACE FUNCTION pgflow_cpp.wake_due_waits(max_count integer DEFAULT 100)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  handled integer := 0;
  due record;
  failure text;
BEGIN
  IF max_count IS NULL OR max_count < 1 THEN
    RAISE EXCEPTION 'wake_due_waits: max_count must be at least 1, not %', coalesce(max_count::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR due IN
    SELECT w.run_id, w.step_slug, w.task_index FROM pgflow_cpp.waits AS w
    WHERE w.wake_at <= clock_timestamp()
    ORDER BY w.wake_at
    LIMIT max_count
    FOR NO KEY UPDATE SKIP LOCKED
  LOOP
    BEGIN
      PERFORM pgflow_cpp.wake_wait(due.run_id, due.step_slug, due.task_index);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS failure = MESSAGE_TEXT;
      RAISE WARNING 'pgflow_cpp.wake_due_waits: task % of step "%" of run %: %; tried again in a minute',
        due.task_index, due.step_slug, due.run_id, failure;
      UPDATE pgflow_cpp.waits AS w SET wake_at = clock_timestamp() + interval '1 minute'
      WHERE w.run_id = due.run_id AND w.step_slug = due.step_slug AND w.task_index = due.task_index;
    END;
    handled := handled + 1;
  END LOOP;
  RETURN handled;
END;
$$;

-- pgflow_cpp.next_wake_at() -> timestamptz
-- (Addition.) The earliest wake_at of any wait (NULL: none): when wake_due_waits has something to
-- do next. Possibly early (a wait that turns out to be stale), never late.
CREATE OR REPLACE FUNCTION pgflow_cpp.next_wake_at()
RETURNS timestamptz
LANGUAGE sql
STABLE
SECURITY DEFINER  -- reads pgflow_cpp.waits, which only the owner may: see 0950_privileges.sql
SET search_path = ''
AS $$
  SELECT min(w.wake_at) FROM pgflow_cpp.waits AS w WHERE w.wake_at IS NOT NULL;
$$;

-- pgflow_cpp.run_waits(run_id) -> table (step_slug, task_index, kind, waiting_since, wake_at,
--   child_run_id)
-- (Addition.) The run's tasks that wait now, in step and task order: for a signal (wake_at: its
-- timeout), a sleep's end or a child run (child_run_id; NULL with a wake_at while a retry's new
-- child is due). Nothing for a finished run. Read-only.
CREATE OR REPLACE FUNCTION pgflow_cpp.run_waits(run_id uuid)
RETURNS TABLE (step_slug text, task_index integer, kind text, waiting_since timestamptz, wake_at timestamptz,
               child_run_id uuid)
LANGUAGE sql
STABLE
SECURITY DEFINER  -- reads pgflow_cpp.waits, which only the owner may: see 0950_privileges.sql
SET search_path = ''
AS $$
  SELECT w.step_slug, w.task_index, w.kind, w.waiting_since, w.wake_at, w.child_run_id
  FROM pgflow_cpp.waits AS w
  JOIN pgflow.step_tasks AS t ON t.run_id = w.run_id AND t.step_slug = w.step_slug AND t.task_index = w.task_index
  JOIN pgflow.runs AS r ON r.run_id = w.run_id
  WHERE w.run_id = run_waits.run_id AND t.status = 'queued' AND r.status = 'started'
  ORDER BY w.step_slug, w.task_index;
$$;
