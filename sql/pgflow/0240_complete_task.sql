-- pgflow.complete_task(run_id, step_slug, task_index, output) -> setof pgflow.step_tasks
-- Records a started task's output. The last task of a step completes the step (step:completed
-- with the step's output), counts it off its dependents (a dependent map learns its size) and
-- the run, evaluates the conditions of the dependents it made ready (pgflow 0.14:
-- cascade_resolve_conditions; when one fails the run, the task's message is archived and its row
-- returned), completes taskless descendants, starts what became ready and completes the run when
-- nothing is left. Returns the task row; a task that is not 'started' is left as it is, and so is
-- a task whose step is no longer 'started' (e.g. skipped: pgflow 0.14), whose message is archived.
-- On a failed run nothing changes. Type violation (the step is a single step feeding a map whose
-- size is unknown, and output is not an array) of a started task: the run, the task and the step fail with
-- '[TYPE_VIOLATION] ...' messages whatever the step's when_exhausted, its other active tasks are
-- cancelled (pgflow 0.15.1), the run's messages are archived, and the failed task row is returned
-- (pgflow 0.14; 0.8.1 returned nothing).
-- Times are now(), or the row's own start when another transaction started it after this one
-- began (the tables' ordering CHECKs always hold); events carry the stored times.
-- Locks, in this order (as complete_tasks and fail_task): the task, its step's state, and when
-- the step completes the run's row, then the run's steps that have not started (dependents,
-- cascade, steps started). Rows of not yet started steps are only locked under the run's row.
CREATE OR REPLACE FUNCTION pgflow.complete_task(run_id uuid, step_slug text, task_index integer, output jsonb)
RETURNS SETOF pgflow.step_tasks
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  run_flow text;
  run_status text;
  step_kind text;
  has_dependents boolean;
  conditional_dependents boolean;
  violated_map text;
  produced text;
  task_message bigint;
  step_row record;
  step_output jsonb;
  failed_time timestamptz;
BEGIN
  -- has_dependents: a leaf step's completion skips the statements that only concern dependents
  -- (the type check, the dependents' counters, the cascade, starting steps): nothing can become
  -- ready or empty when a step without dependents completes. conditional_dependents: only a
  -- dependent with a condition can need cascade_resolve_conditions when this step completes (the
  -- steps it releases are its dependents; the taskless cascade evaluates the ones it releases).
  SELECT r.flow_slug, r.status, s.step_type,
         EXISTS (SELECT 1 FROM pgflow.deps AS d WHERE d.flow_slug = r.flow_slug AND d.dep_slug = complete_task.step_slug),
         EXISTS (SELECT 1 FROM pgflow.deps AS d
                 JOIN pgflow.steps AS c ON c.flow_slug = d.flow_slug AND c.step_slug = d.step_slug
                 WHERE d.flow_slug = r.flow_slug AND d.dep_slug = complete_task.step_slug
                   AND (c.required_input_pattern IS NOT NULL OR c.forbidden_input_pattern IS NOT NULL))
  INTO run_flow, run_status, step_kind, has_dependents, conditional_dependents
  FROM pgflow.runs AS r
  LEFT JOIN pgflow.steps AS s ON s.flow_slug = r.flow_slug AND s.step_slug = complete_task.step_slug
  WHERE r.run_id = complete_task.run_id;

  IF run_status = 'failed' THEN
    -- No task of a failed run stays active (pgflow 0.15.1): one the run's cancellation passed over
    -- while it was held (SKIP LOCKED) is cancelled now, and its message archived.
    UPDATE pgflow.step_tasks AS t SET status = 'cancelled'
    WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
      AND t.task_index = complete_task.task_index AND t.status IN ('queued', 'started');
    IF FOUND THEN
      PERFORM pgflow._archive_task_message(complete_task.run_id, complete_task.step_slug, complete_task.task_index);
    END IF;
    RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
      WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
        AND t.task_index = complete_task.task_index;
    RETURN;
  END IF;

  -- A single step whose output sizes a dependent map must produce an array.
  IF has_dependents AND step_kind = 'single'
     AND (complete_task.output IS NULL OR jsonb_typeof(complete_task.output) <> 'array') THEN
    SELECT child.step_slug INTO violated_map
    FROM pgflow.deps AS d
    JOIN pgflow.steps AS child ON child.flow_slug = d.flow_slug AND child.step_slug = d.step_slug
    JOIN pgflow.step_states AS cs ON cs.run_id = complete_task.run_id AND cs.step_slug = child.step_slug
    WHERE d.flow_slug = run_flow
      AND d.dep_slug = complete_task.step_slug
      AND child.step_type = 'map'
      AND cs.initial_tasks IS NULL
    ORDER BY child.step_index
    LIMIT 1;
  END IF;

  -- Only a started task's output can violate: a call naming a task that does not exist, or one
  -- not started (queued, or completed meanwhile), changes nothing below, as for any other step
  -- (pgflow 0.8.1 failed the run for it: a stray call killed someone else's run). The task is
  -- locked first, the order of every completion (see Locks above), and checked under the lock.
  IF violated_map IS NOT NULL THEN
    PERFORM 1 FROM pgflow.step_tasks AS t
    WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
      AND t.task_index = complete_task.task_index AND t.status = 'started' COLLATE "C"
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      violated_map := NULL;
    END IF;
  END IF;

  IF violated_map IS NOT NULL THEN
    produced := coalesce(jsonb_typeof(complete_task.output), 'null');

    -- Then the step's state, then the run's row.
    PERFORM 1 FROM pgflow.step_states AS ss
    WHERE ss.run_id = complete_task.run_id AND ss.step_slug = complete_task.step_slug
    FOR NO KEY UPDATE;
    -- Checked again under the locks: a run cancelled or failed since the read above keeps its
    -- state and events (a late completion changes nothing, as at the top).
    PERFORM 1 FROM pgflow.runs AS r
    WHERE r.run_id = complete_task.run_id AND r.status = 'started'
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
        WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
          AND t.task_index = complete_task.task_index;
      RETURN;
    END IF;

    UPDATE pgflow.runs AS r SET status = 'failed', failed_at = greatest(now(), r.started_at)
    WHERE r.run_id = complete_task.run_id
    RETURNING r.failed_at INTO failed_time;

    PERFORM pgflow_cpp.broadcast(
      jsonb_build_object(
        'event_type', 'run:failed',
        'run_id', complete_task.run_id,
        'flow_slug', run_flow,
        'status', 'failed',
        'failed_at', failed_time
      ),
      'run:failed',
      complete_task.run_id);

    -- pgflow 0.15.1: the run's other active tasks are cancelled (this one is held, and failed below).
    PERFORM pgflow_cpp.cancel_active_tasks(complete_task.run_id, run_flow, true);
    PERFORM pgflow_cpp.run_finished(complete_task.run_id);
    PERFORM pgmq.archive(run_flow, array_agg(t.message_id))
    FROM pgflow.step_tasks AS t
    WHERE t.run_id = complete_task.run_id
      AND t.status IN ('queued', 'started')
      AND t.message_id IS NOT NULL
    HAVING count(*) > 0;

    UPDATE pgflow.step_tasks AS t
    SET status = 'failed',
        failed_at = greatest(now(), t.queued_at, t.started_at),
        output = complete_task.output,
        error_message = '[TYPE_VIOLATION] Produced ' || produced || ' instead of array'
    WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
      AND t.task_index = complete_task.task_index
    RETURNING t.message_id INTO task_message;

    UPDATE pgflow.step_states AS ss
    SET status = 'failed',
        failed_at = greatest(now(), ss.started_at),
        error_message = '[TYPE_VIOLATION] Map step ' || violated_map
                        || ' expects array input but dependency ' || complete_task.step_slug
                        || ' produced ' || produced
    WHERE ss.run_id = complete_task.run_id AND ss.step_slug = complete_task.step_slug
    RETURNING ss.failed_at INTO failed_time;

    PERFORM pgflow_cpp.broadcast(
      jsonb_build_object(
        'event_type', 'step:failed',
        'run_id', complete_task.run_id,
        'step_slug', complete_task.step_slug,
        'status', 'failed',
        'error_message', '[TYPE_VIOLATION] Map step ' || violated_map
                         || ' expects array input but dependency ' || complete_task.step_slug
                         || ' produced ' || produced,
        'failed_at', failed_time
      ),
      'step:' || complete_task.step_slug || ':failed',
      complete_task.run_id);

    IF task_message IS NOT NULL THEN
      PERFORM pgmq.archive(run_flow, task_message);
    END IF;
    RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
      WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
        AND t.task_index = complete_task.task_index;
    RETURN;
  END IF;

  -- The task by its primary key. COLLATE "C" is the same text equality, but it keeps the status
  -- test from implying the predicate of the partial index idx_step_tasks_started: with statistics
  -- that count few started tasks the planner would otherwise prefer that index and scan every
  -- started task (O(tasks in flight) per completion).
  UPDATE pgflow.step_tasks AS t
  SET status = 'completed',
      completed_at = greatest(now(), t.queued_at, t.started_at),
      output = complete_task.output
  WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
    AND t.task_index = complete_task.task_index AND t.status = 'started' COLLATE "C"
  RETURNING t.message_id INTO task_message;

  IF FOUND THEN
    -- A slot under a step concurrency limit goes now, and a task refused for want of it is shown.
    PERFORM pgflow_cpp._release_task_slots(ARRAY[complete_task.run_id], ARRAY[complete_task.step_slug],
                                           ARRAY[complete_task.task_index]);
    UPDATE pgflow.step_states AS ss
    SET remaining_tasks = ss.remaining_tasks - 1,
        status = CASE WHEN ss.remaining_tasks = 1 THEN 'completed' ELSE ss.status END,
        completed_at = CASE WHEN ss.remaining_tasks = 1 THEN greatest(now(), ss.started_at) END
    WHERE ss.run_id = complete_task.run_id AND ss.step_slug = complete_task.step_slug
      AND ss.status = 'started'
    RETURNING ss.status, ss.completed_at, ss.initial_tasks INTO step_row;

    -- pgflow 0.14: a late completion of a step no longer running (skipped, or failed with its run,
    -- while this call held the task, so that the skip or the cancellation passed it over) counts
    -- nothing: the task ends as its siblings did ('skipped', or 'cancelled' on a failed run, never
    -- left 'started') and its message is archived.
    IF NOT FOUND THEN
      UPDATE pgflow.step_tasks AS t
      SET status = CASE WHEN (SELECT r.status FROM pgflow.runs AS r WHERE r.run_id = complete_task.run_id) = 'failed'
                        THEN 'cancelled' ELSE 'skipped' END,
          completed_at = NULL, output = NULL
      WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
        AND t.task_index = complete_task.task_index;
      PERFORM pgflow._archive_task_message(complete_task.run_id, complete_task.step_slug, complete_task.task_index);
      RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
        WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
          AND t.task_index = complete_task.task_index;
      RETURN;
    END IF;

    -- The run's row before any dependent's step state: whoever holds it is the only one changing
    -- the run's not yet started steps, so completions cannot deadlock on them (see Locks above).
    IF step_row.status = 'completed' THEN
      UPDATE pgflow.runs AS r SET remaining_steps = r.remaining_steps - 1
      WHERE r.run_id = complete_task.run_id AND r.status = 'started';
      -- The run failed (a condition, a cancel, another task) after the check at the top, while this
      -- call held the task and the step: cancellation wins, as in fail_task. The step stays as the
      -- failure left it and this task is cancelled like its siblings; no event.
      IF NOT FOUND THEN
        UPDATE pgflow.step_states AS ss
        SET status = 'started', completed_at = NULL, remaining_tasks = ss.remaining_tasks + 1
        WHERE ss.run_id = complete_task.run_id AND ss.step_slug = complete_task.step_slug;
        UPDATE pgflow.step_tasks AS t
        SET status = 'cancelled', completed_at = NULL, output = NULL
        WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
          AND t.task_index = complete_task.task_index;
        PERFORM pgflow._archive_task_message(complete_task.run_id, complete_task.step_slug, complete_task.task_index);
        RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
          WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
            AND t.task_index = complete_task.task_index;
        RETURN;
      END IF;
    END IF;

    IF step_row.status = 'completed' AND has_dependents THEN
      -- A dependent map learns its size now: the parent's task count (map parent) or the length of
      -- its array output (single parent).
      UPDATE pgflow.step_states AS child
      SET remaining_deps = child.remaining_deps - 1,
          initial_tasks = CASE
            WHEN cs.step_type = 'map' AND child.initial_tasks IS NULL THEN
              CASE
                WHEN step_kind = 'map' THEN step_row.initial_tasks
                WHEN jsonb_typeof(complete_task.output) = 'array' THEN jsonb_array_length(complete_task.output)
              END
            ELSE child.initial_tasks
          END
      FROM pgflow.deps AS d
      JOIN pgflow.steps AS cs ON cs.flow_slug = d.flow_slug AND cs.step_slug = d.step_slug
      WHERE d.flow_slug = run_flow AND d.dep_slug = complete_task.step_slug
        AND child.run_id = complete_task.run_id AND child.step_slug = d.step_slug;
    END IF;

    IF step_row.status = 'completed' THEN
      -- A map's output is aggregated for its event only where the event can carry it: to
      -- realtime.send, or to a notification, which drops an output stored in over 256 kB anyway
      -- (pgflow_cpp.broadcast). Otherwise the event says "trimmed" without aggregating the
      -- tasks' outputs a second time (the run's output aggregates them once more).
      IF step_kind <> 'map' THEN
        step_output := complete_task.output;
      ELSIF pgflow_cpp._realtime_send_exists()
            OR (SELECT coalesce(sum(pg_column_size(t.output)), 0) FROM pgflow.step_tasks AS t
                WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
                  AND t.status = 'completed' COLLATE "C") <= 262144 THEN  -- by key: see step_output
        step_output := pgflow_cpp.step_output(complete_task.run_id, complete_task.step_slug, 'map');
      END IF;

      PERFORM pgflow_cpp.broadcast(
        pgflow_cpp._step_completed_event(complete_task.run_id, complete_task.step_slug, step_row.completed_at,
                                         step_output, step_kind = 'map' AND step_output IS NULL),
        'step:' || complete_task.step_slug || ':completed',
        complete_task.run_id);

      IF has_dependents THEN
        -- pgflow 0.14: the dependents it made ready are evaluated before anything starts.
        IF conditional_dependents AND NOT pgflow.cascade_resolve_conditions(complete_task.run_id) THEN
          IF task_message IS NOT NULL THEN
            PERFORM pgmq.archive(run_flow, ARRAY[task_message]);
          END IF;
          RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
            WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
              AND t.task_index = complete_task.task_index;
          RETURN;
        END IF;
        -- Dependents it left empty (a map over []) are completed by start_ready_steps below, which
        -- runs the taskless cascade before starting anything when one is ready.
      END IF;
    END IF;

    IF task_message IS NOT NULL THEN
      PERFORM pgmq.archive(run_flow, ARRAY[task_message]);
    END IF;

    IF step_row.status = 'completed' THEN
      IF has_dependents THEN
        PERFORM pgflow.start_ready_steps(complete_task.run_id);
      END IF;
      PERFORM pgflow.maybe_complete_run(complete_task.run_id);
    END IF;
  ELSIF EXISTS (SELECT 1 FROM pgflow.step_states AS ss
                WHERE ss.run_id = complete_task.run_id AND ss.step_slug = complete_task.step_slug
                  AND ss.status NOT IN ('created', 'started')) THEN
    -- Not started, and its step no longer runs (pgflow 0.14: e.g. skipped): only the message goes.
    PERFORM pgflow._archive_task_message(complete_task.run_id, complete_task.step_slug, complete_task.task_index);
  END IF;

  RETURN QUERY SELECT * FROM pgflow.step_tasks AS t
    WHERE t.run_id = complete_task.run_id AND t.step_slug = complete_task.step_slug
      AND t.task_index = complete_task.task_index;
END;
$$;
