-- Internal helpers of the steps without handlers (0067_waits.sql): opening a wait, a subflow's
-- child run, and what a run's end means for its parent and its children.

-- pgflow_cpp.open_wait(run_id, step_slug, task_index, kind, wake_at, child_run_id) -> void
-- (Internal.) The task (queued, without a visible message) waits from now: its waits row is
-- created or replaced, and step:<slug>:waiting is sent (step:started's payload for the step plus
-- task_index, kind, waiting_since, wake_at and child_run_id).
CREATE OR REPLACE FUNCTION pgflow_cpp.open_wait(run_id uuid, step_slug text, task_index integer, kind text,
                                                wake_at timestamptz, child_run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  since timestamptz;
  step record;
BEGIN
  INSERT INTO pgflow_cpp.waits AS w (run_id, step_slug, task_index, kind, waiting_since, wake_at, child_run_id)
  VALUES (open_wait.run_id, open_wait.step_slug, open_wait.task_index, open_wait.kind, now(),
          open_wait.wake_at, open_wait.child_run_id)
  ON CONFLICT ON CONSTRAINT waits_pkey DO UPDATE
  SET kind = excluded.kind, waiting_since = excluded.waiting_since, wake_at = excluded.wake_at,
      child_run_id = excluded.child_run_id, start_error = NULL
  RETURNING w.waiting_since INTO since;

  SELECT ss.started_at, ss.remaining_tasks, ss.remaining_deps INTO step
  FROM pgflow.step_states AS ss WHERE ss.run_id = open_wait.run_id AND ss.step_slug = open_wait.step_slug;
  PERFORM pgflow_cpp.broadcast(
    jsonb_build_object(
      'event_type', 'step:waiting',
      'run_id', open_wait.run_id,
      'step_slug', open_wait.step_slug,
      'status', 'started',
      'started_at', step.started_at,
      'remaining_tasks', step.remaining_tasks,
      'remaining_deps', step.remaining_deps,
      'task_index', open_wait.task_index,
      'kind', open_wait.kind,
      'waiting_since', since,
      'wake_at', open_wait.wake_at,
      'child_run_id', open_wait.child_run_id
    ),
    'step:' || open_wait.step_slug || ':waiting',
    open_wait.run_id);
END;
$$;

-- pgflow_cpp._single_dependency(run_id, flow_slug, step_slug) -> (dep_slug, step_type, status)
-- (Internal.) The one dependency of a step that has one: its slug, its step type, and its state's
-- status in the run.
CREATE OR REPLACE FUNCTION pgflow_cpp._single_dependency(run_id uuid, flow_slug text, step_slug text)
RETURNS TABLE (dep_slug text, step_type text, status text)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
  SELECT d.dep_slug, p.step_type, ds.status
  FROM pgflow.deps AS d
  JOIN pgflow.steps AS p ON p.flow_slug = d.flow_slug AND p.step_slug = d.dep_slug
  JOIN pgflow.step_states AS ds ON ds.run_id = _single_dependency.run_id AND ds.step_slug = d.dep_slug
  WHERE d.flow_slug = _single_dependency.flow_slug AND d.step_slug = _single_dependency.step_slug
$$;

-- pgflow_cpp._subflow_map_array(run_id, flow_slug, step_slug) -> jsonb
-- (Internal.) The array a map subflow step maps when it is one array: the run's input for a root
-- map, its single dependency's output when that is a completed single step. NULL otherwise (a
-- single step; a map over a map's tasks, whose elements are task outputs read one by one; a
-- dependency that did not complete). Read once for all of a step's children by
-- start_waiting_tasks: reading it per child cost O(N) each, O(N²) for the step.
CREATE OR REPLACE FUNCTION pgflow_cpp._subflow_map_array(run_id uuid, flow_slug text, step_slug text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
  step pgflow.steps;
  dep record;
BEGIN
  SELECT * INTO step FROM pgflow.steps AS s
  WHERE s.flow_slug = _subflow_map_array.flow_slug AND s.step_slug = _subflow_map_array.step_slug;
  IF step.step_type IS DISTINCT FROM 'map' OR step.deps_count > 1 THEN
    RETURN NULL;
  ELSIF step.deps_count = 0 THEN
    RETURN (SELECT r.input FROM pgflow.runs AS r WHERE r.run_id = _subflow_map_array.run_id);
  END IF;
  SELECT * INTO dep FROM pgflow_cpp._single_dependency(_subflow_map_array.run_id, _subflow_map_array.flow_slug,
                                                       _subflow_map_array.step_slug);
  IF dep.status = 'completed' AND dep.step_type = 'single' THEN
    RETURN pgflow_cpp.step_output(_subflow_map_array.run_id, dep.dep_slug, 'single');
  END IF;
  RETURN NULL;
END;
$$;

-- pgflow_cpp.subflow_input(run_id, flow_slug, step_slug, task_index) -> jsonb
-- (Internal.) A subflow task's child run input: for a single step the run's input (no
-- dependency), its one dependency's output (null when that dependency was skipped), or with
-- several dependencies a handler's input ({"run": input, <dep>: output...}); for a map step the
-- element task_index of the array it maps (the run input, a single dependency's output, or a map
-- dependency's task task_index).
CREATE OR REPLACE FUNCTION pgflow_cpp.subflow_input(run_id uuid, flow_slug text, step_slug text, task_index integer)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
  step pgflow.steps;
  dep record;
  run_input jsonb;
  mapped jsonb := pgflow_cpp._subflow_map_array(subflow_input.run_id, subflow_input.flow_slug, subflow_input.step_slug);
BEGIN
  IF mapped IS NOT NULL THEN
    RETURN mapped -> subflow_input.task_index;
  END IF;
  SELECT * INTO step FROM pgflow.steps AS s
  WHERE s.flow_slug = subflow_input.flow_slug AND s.step_slug = subflow_input.step_slug;
  SELECT r.input INTO run_input FROM pgflow.runs AS r WHERE r.run_id = subflow_input.run_id;
  IF step.deps_count = 0 THEN
    RETURN run_input;
  END IF;

  IF step.deps_count = 1 THEN
    SELECT * INTO dep FROM pgflow_cpp._single_dependency(subflow_input.run_id, subflow_input.flow_slug,
                                                         subflow_input.step_slug);
    IF dep.status IS DISTINCT FROM 'completed' THEN
      RETURN 'null'::jsonb;
    ELSIF step.step_type = 'single' THEN
      RETURN pgflow_cpp.step_output(subflow_input.run_id, dep.dep_slug, dep.step_type);
    END IF;
    -- A map over a map's tasks (over a single step's output: _subflow_map_array above).
    RETURN coalesce((SELECT t.output FROM pgflow.step_tasks AS t
                     WHERE t.run_id = subflow_input.run_id AND t.step_slug = dep.dep_slug
                       AND t.task_index = subflow_input.task_index), 'null'::jsonb);
  END IF;

  RETURN jsonb_build_object('run', run_input) || coalesce((
    SELECT json_object_agg(d.dep_slug, pgflow_cpp.step_output(subflow_input.run_id, d.dep_slug, p.step_type))::jsonb
    FROM pgflow.deps AS d
    JOIN pgflow.steps AS p ON p.flow_slug = d.flow_slug AND p.step_slug = d.dep_slug
    JOIN pgflow.step_states AS ds ON ds.run_id = subflow_input.run_id AND ds.step_slug = d.dep_slug
    WHERE d.flow_slug = subflow_input.flow_slug AND d.step_slug = subflow_input.step_slug
      AND ds.status = 'completed'), '{}'::jsonb);
END;
$$;

-- pgflow_cpp._start_child_run(run_id, flow_slug, step_slug, task_index, input) -> uuid
-- (Internal.) start_child_run (below) with the child's input given: start_waiting_tasks takes a
-- map's elements from the array it read once. NULL input: subflow_input's.
CREATE OR REPLACE FUNCTION pgflow_cpp._start_child_run(run_id uuid, flow_slug text, step_slug text, task_index integer,
                                                       input jsonb)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  child_flow text;
  child uuid := gen_random_uuid();
  child_status text;
  failure text;
BEGIN
  SELECT k.child_flow_slug INTO child_flow FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = _start_child_run.flow_slug AND k.step_slug = _start_child_run.step_slug;
  BEGIN
    -- The child inherits its parent's priority (start_flow_with_priority), before it exists so that
    -- its admission under the child flow's run limits already sees it.
    INSERT INTO pgflow_cpp.run_priorities (run_id, flow_slug, priority)
    SELECT child, child_flow, p.priority FROM pgflow_cpp.run_priorities AS p WHERE p.run_id = _start_child_run.run_id;
    SELECT r.status INTO child_status
    FROM pgflow.start_flow(child_flow,
                           coalesce(_start_child_run.input,
                                    pgflow_cpp.subflow_input(_start_child_run.run_id, _start_child_run.flow_slug,
                                                             _start_child_run.step_slug, _start_child_run.task_index)),
                           child) AS r;
    INSERT INTO pgflow_cpp.run_control AS c (run_id, flow_slug, parent_run_id, parent_step_slug, parent_task_index)
    VALUES (child, child_flow, _start_child_run.run_id, _start_child_run.step_slug, _start_child_run.task_index)
    ON CONFLICT ON CONSTRAINT run_control_pkey DO UPDATE
    SET parent_run_id = excluded.parent_run_id, parent_step_slug = excluded.parent_step_slug,
        parent_task_index = excluded.parent_task_index;
  EXCEPTION
    -- A deadlock, serialization failure or lock timeout (e.g. on the child flow's run limits) is
    -- the caller's transaction's to retry, not a reason for the child to count as failed.
    WHEN transaction_rollback OR lock_not_available THEN
      RAISE;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS failure = MESSAGE_TEXT;
      child := NULL;
  END;

  PERFORM pgflow_cpp.open_wait(_start_child_run.run_id, _start_child_run.step_slug, _start_child_run.task_index,
                               'subflow', CASE WHEN child_status IS DISTINCT FROM 'started' THEN now() END, child);
  IF failure IS NOT NULL THEN
    UPDATE pgflow_cpp.waits AS w
    SET start_error = format('Child run of flow "%s" could not start: %s', child_flow, failure)
    WHERE w.run_id = _start_child_run.run_id AND w.step_slug = _start_child_run.step_slug
      AND w.task_index = _start_child_run.task_index;
  END IF;
  RETURN child;
END;
$$;

-- pgflow_cpp.start_child_run(run_id, flow_slug, step_slug, task_index) -> uuid (the child run)
-- (Internal.) Starts a child run of the subflow step's child flow for one of its tasks (input:
-- subflow_input), records its parent in run_control and opens the task's wait on it. A child that
-- ended at once (e.g. a flow of empty maps) leaves the wait due now, as does a child that could not
-- start (an error of start_flow, kept in start_error): wake_due_waits then completes or fails the
-- task, outside the caller's own cascade.
CREATE OR REPLACE FUNCTION pgflow_cpp.start_child_run(run_id uuid, flow_slug text, step_slug text, task_index integer)
RETURNS uuid
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
  SELECT pgflow_cpp._start_child_run(start_child_run.run_id, start_child_run.flow_slug, start_child_run.step_slug,
                                     start_child_run.task_index, NULL)
$$;

-- pgflow_cpp.start_waiting_tasks(run_id, flow_slug, step_slug, kind, task_indexes) -> void
-- (Internal; start_ready_steps, and resume_run for a partly completed map.) The tasks task_indexes
-- of a signal or subflow step that has just started: each
-- 'queued' with no queue message (no worker can claim it), and waiting: for its signal (until the
-- step's signal_timeout) or for the child run started for it.
CREATE OR REPLACE FUNCTION pgflow_cpp.start_waiting_tasks(run_id uuid, flow_slug text, step_slug text, kind text,
                                                          task_indexes integer[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  timeout integer;
  i integer;
  mapped jsonb;
  elements jsonb[];
BEGIN
  -- A subflow map's elements, read once for all its children: reading the array per child (as
  -- subflow_input does) detoasts all of it each time, O(N²) for the step. A PL/pgSQL array gives
  -- each element without copying the others.
  IF start_waiting_tasks.kind = 'subflow' THEN
    mapped := pgflow_cpp._subflow_map_array(start_waiting_tasks.run_id, start_waiting_tasks.flow_slug,
                                            start_waiting_tasks.step_slug);
    IF jsonb_typeof(mapped) = 'array' THEN
      elements := ARRAY(SELECT e.value FROM jsonb_array_elements(mapped) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord);
    END IF;
  END IF;

  INSERT INTO pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id)
  SELECT start_waiting_tasks.flow_slug, start_waiting_tasks.run_id, start_waiting_tasks.step_slug, x.idx, NULL
  FROM unnest(start_waiting_tasks.task_indexes) AS x(idx);

  SELECT k.signal_timeout INTO timeout FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = start_waiting_tasks.flow_slug AND k.step_slug = start_waiting_tasks.step_slug;
  FOREACH i IN ARRAY start_waiting_tasks.task_indexes LOOP
    IF kind = 'signal' THEN
      PERFORM pgflow_cpp.open_wait(start_waiting_tasks.run_id, start_waiting_tasks.step_slug, i, 'signal',
                                   now() + make_interval(secs => timeout), NULL);
    ELSE
      PERFORM pgflow_cpp._start_child_run(start_waiting_tasks.run_id, start_waiting_tasks.flow_slug,
                                          start_waiting_tasks.step_slug, i, elements[i + 1]);
    END IF;
  END LOOP;
END;
$$;

-- pgflow_cpp.run_finished(run_id) -> void
-- (Internal; called where a run completes or fails.) A child run that ended makes its parent's
-- wait due now (wake_due_waits completes or fails the parent's task in its own transaction, so a
-- child's completion never waits for its parent's rows) and wakes the parent flow's workers; a run
-- that failed (or was cancelled) cancels its children still running, recursively. The parent's
-- wait is taken SKIP LOCKED: a session holding it is waking it already (and waits for nothing this
-- session holds first, see wake_due_waits), and finds the child's end when it re-reads the child.
CREATE OR REPLACE FUNCTION pgflow_cpp.run_finished(run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  parent_flow text;
  child uuid;
BEGIN
  WITH due AS (
    UPDATE pgflow_cpp.waits AS w SET wake_at = now()
    FROM (SELECT l.run_id, l.step_slug, l.task_index FROM pgflow_cpp.waits AS l
          WHERE l.child_run_id = run_finished.run_id
          FOR NO KEY UPDATE SKIP LOCKED) AS l
    WHERE w.run_id = l.run_id AND w.step_slug = l.step_slug AND w.task_index = l.task_index
    RETURNING w.run_id)
  SELECT r.flow_slug INTO parent_flow FROM due JOIN pgflow.runs AS r ON r.run_id = due.run_id LIMIT 1;
  IF parent_flow IS NOT NULL THEN
    PERFORM pgflow_cpp.notify('pgflow:queue:' || parent_flow, '');
  END IF;

  IF (SELECT r.status FROM pgflow.runs AS r WHERE r.run_id = run_finished.run_id) = 'failed' THEN
    FOR child IN
      SELECT c.run_id FROM pgflow_cpp.run_control AS c
      JOIN pgflow.runs AS r ON r.run_id = c.run_id
      -- COLLATE "C": the children's runs by key, not every started run through idx_runs_status.
      WHERE c.parent_run_id = run_finished.run_id AND r.status = 'started' COLLATE "C"
      ORDER BY c.run_id
    LOOP
      BEGIN
        PERFORM pgflow_cpp.cancel_run(child);
      EXCEPTION WHEN object_not_in_prerequisite_state THEN
        NULL;  -- it ended meanwhile
      END;
    END LOOP;
    -- Its waits ended with their tasks (those another session holds are left to wake_due_waits).
    DELETE FROM pgflow_cpp.waits AS w
    USING (SELECT l.step_slug, l.task_index FROM pgflow_cpp.waits AS l
           WHERE l.run_id = run_finished.run_id FOR NO KEY UPDATE SKIP LOCKED) AS l,
          pgflow.step_tasks AS t
    WHERE w.run_id = run_finished.run_id AND w.step_slug = l.step_slug AND w.task_index = l.task_index
      AND t.run_id = w.run_id AND t.step_slug = w.step_slug AND t.task_index = w.task_index
      AND t.status NOT IN ('queued', 'started')
      AND (w.child_run_id IS NULL OR NOT EXISTS (SELECT 1 FROM pgflow.runs AS c
                                                 WHERE c.run_id = w.child_run_id AND c.status = 'started'));
  END IF;
END;
$$;

-- pgflow_cpp.resolve_wait(run_id, step_slug, task_index, waiting_since, new_attempt) -> void
-- (Internal.) A waiting task's wait ends (its signal, timeout, sleep's end or child run's end):
-- the task becomes 'started' again so that pgflow.complete_task or fail_task_internal take it the
-- way they take a handler's task. new_attempt (signals, subflows): the wait was an attempt,
-- counted now, which started when the wait began; a sleep's attempt is the worker's claim.
CREATE OR REPLACE FUNCTION pgflow_cpp.resolve_wait(run_id uuid, step_slug text, task_index integer,
                                                   waiting_since timestamptz, new_attempt boolean)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
  UPDATE pgflow.step_tasks AS t
  SET status = 'started',
      attempts_count = t.attempts_count + CASE WHEN resolve_wait.new_attempt THEN 1 ELSE 0 END,
      started_at = CASE WHEN resolve_wait.new_attempt OR t.started_at IS NULL
                        THEN greatest(least(coalesce(resolve_wait.waiting_since, now()), now()), t.queued_at)
                        ELSE t.started_at END
  WHERE t.run_id = resolve_wait.run_id AND t.step_slug = resolve_wait.step_slug
    AND t.task_index = resolve_wait.task_index AND t.status = 'queued';
$$;
