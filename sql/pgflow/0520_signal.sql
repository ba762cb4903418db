-- pgflow_cpp.signal(run_id, step_slug, value, task_index = 0) -> void
-- (Addition.) Completes a waiting task of a signal step with output = value, through
-- pgflow.complete_task (dependents start, step:completed, the run completes: as a handler's
-- completion would). Refusals change nothing and raise:
--   P0002 (no_data_found)  unknown run, a step the run's flow does not have, or a task_index the
--                          started step does not have;
--   22023 (invalid_parameter_value)  the step is not a signal step; value does not match the
--                          step's value_shape (json_matches_shape's message);
--   55000 (object_not_in_prerequisite_state)  the task is not waiting, the message says why: the
--                          run is completed / failed / cancelled, the step is not ready yet or was
--                          skipped, the task was signalled already (completed), failed or is being
--                          retried.
-- Locks: the task's wait, then the task (as wake_due_waits: a signal and a timeout of the same
-- wait are decided by whoever takes the wait first; the other finds the task no longer waiting).
CREATE OR REPLACE FUNCTION pgflow_cpp.signal(run_id uuid, step_slug text, value jsonb, task_index integer DEFAULT 0)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  run pgflow.runs;
  step_kind pgflow_cpp.step_kinds;
  step_status text;
  waiting pgflow_cpp.waits;
  task pgflow.step_tasks;
  mismatch text;
  label text := format('Signal "%s" of run %s', signal.step_slug, signal.run_id);
BEGIN
  SELECT * INTO run FROM pgflow.runs AS r WHERE r.run_id = signal.run_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Run % does not exist', signal.run_id USING ERRCODE = 'no_data_found';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgflow.steps AS s WHERE s.flow_slug = run.flow_slug AND s.step_slug = signal.step_slug) THEN
    RAISE EXCEPTION 'Flow "%" of run % has no step "%"', run.flow_slug, signal.run_id, signal.step_slug
      USING ERRCODE = 'no_data_found';
  END IF;
  SELECT * INTO step_kind FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = run.flow_slug AND k.step_slug = signal.step_slug;
  IF step_kind.kind IS DISTINCT FROM 'signal' THEN
    RAISE EXCEPTION 'Step "%" of flow "%" is not a signal step (it is a % step)', signal.step_slug, run.flow_slug,
      coalesce(step_kind.kind, 'handler') USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT * INTO waiting FROM pgflow_cpp.waits AS w
  WHERE w.run_id = signal.run_id AND w.step_slug = signal.step_slug AND w.task_index = signal.task_index
  FOR NO KEY UPDATE;
  SELECT * INTO task FROM pgflow.step_tasks AS t
  WHERE t.run_id = signal.run_id AND t.step_slug = signal.step_slug AND t.task_index = signal.task_index
  FOR NO KEY UPDATE;
  SELECT r.status INTO run.status FROM pgflow.runs AS r WHERE r.run_id = signal.run_id;
  SELECT ss.status INTO step_status FROM pgflow.step_states AS ss
  WHERE ss.run_id = signal.run_id AND ss.step_slug = signal.step_slug;

  IF run.status <> 'started' THEN
    RAISE EXCEPTION '% is not waiting: the run is %', label,
      CASE WHEN run.status = 'failed' AND EXISTS (SELECT 1 FROM pgflow_cpp.run_control AS c
                                                 WHERE c.run_id = signal.run_id AND c.cancelled_at IS NOT NULL)
           THEN 'cancelled' ELSE run.status END
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF step_status = 'created' THEN
    RAISE EXCEPTION '% is not waiting: the step is not ready yet (it waits for its dependencies)', label
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF step_status = 'skipped' THEN
    RAISE EXCEPTION '% is not waiting: the step was skipped', label USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF task.run_id IS NULL THEN
    RAISE EXCEPTION 'Step "%" of run % has no task %', signal.step_slug, signal.run_id, signal.task_index
      USING ERRCODE = 'no_data_found';
  END IF;
  IF task.status <> 'queued' OR waiting.run_id IS NULL THEN
    RAISE EXCEPTION '% is not waiting: %', label,
      CASE task.status
        WHEN 'completed' THEN format('it was signalled already (completed at %s)', task.completed_at)
        WHEN 'queued' THEN 'its task waits for a retry'
        ELSE format('its task is %s', task.status)
      END
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  mismatch := pgflow_cpp.json_matches_shape(signal.value, step_kind.value_shape);
  IF mismatch IS NOT NULL THEN
    RAISE EXCEPTION '% has the wrong shape: %', label, mismatch USING ERRCODE = 'invalid_parameter_value';
  END IF;

  DELETE FROM pgflow_cpp.waits AS w
  WHERE w.run_id = signal.run_id AND w.step_slug = signal.step_slug AND w.task_index = signal.task_index;
  PERFORM pgflow_cpp.resolve_wait(signal.run_id, signal.step_slug, signal.task_index, waiting.waiting_since, true);
  PERFORM pgflow.complete_task(signal.run_id, signal.step_slug, signal.task_index, coalesce(signal.value, 'null'::jsonb));
END;
$$;
