-- pgflow_cpp.skip_exhausted_step(run_id, flow_slug, step_slug, task_message, error_message,
--                                cascade_to_dependents) -> void
-- (Internal; fail_task_internal's when_exhausted 'skip' / 'skip-cascade', pgflow 0.14 with
-- 0.15.1's task statuses.) The task (already 'failed', its message task_message) took its
-- attempts with it and its step is skipped instead of failing the run: status 'skipped',
-- skip_reason 'handler_failed', error_message kept, remaining_tasks NULL; the run's
-- remaining_steps drops by one; the step's other queued or started tasks become 'skipped' (those
-- another session holds are left to it: it finds the step skipped) and their messages and the
-- failed task's are archived; step:<slug>:skipped {event_type, run_id, step_slug, status,
-- skip_reason, error_message, skipped_at} (upstream's payload: no flow_slug). cascade_to_dependents: the
-- step's dependents, transitively, are skipped too (_cascade_force_skip_steps). Otherwise each
-- dependent loses one remaining dependency (a dependent map becomes empty), conditions are
-- resolved (a 'fail' condition fails the run: nothing more), empty steps complete and ready steps
-- start. Last the run completes when no step is left. The caller holds the task, the step's state
-- and the run's row, so the step is skipped once.
CREATE OR REPLACE FUNCTION pgflow_cpp.skip_exhausted_step(run_id uuid, flow_slug text, step_slug text,
                                                          task_message bigint, error_message text,
                                                          cascade_to_dependents boolean)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  skipped_time timestamptz;
  messages bigint[];
  indexes integer[];
BEGIN
  UPDATE pgflow.step_states AS ss
  SET status = 'skipped', skip_reason = 'handler_failed', skipped_at = greatest(now(), ss.started_at),
      error_message = skip_exhausted_step.error_message, remaining_tasks = NULL
  WHERE ss.run_id = skip_exhausted_step.run_id AND ss.step_slug = skip_exhausted_step.step_slug
  RETURNING ss.skipped_at INTO skipped_time;

  UPDATE pgflow.runs AS r SET remaining_steps = r.remaining_steps - 1
  WHERE r.run_id = skip_exhausted_step.run_id;

  -- Task rows before queue rows (upstream's lock order).
  WITH skipped AS (
    UPDATE pgflow.step_tasks AS t SET status = 'skipped'
    FROM (SELECT a.task_index FROM pgflow.step_tasks AS a
          WHERE a.run_id = skip_exhausted_step.run_id AND a.step_slug = skip_exhausted_step.step_slug
            AND a.status IN ('queued', 'started')
          FOR NO KEY UPDATE OF a SKIP LOCKED) AS a
    WHERE t.run_id = skip_exhausted_step.run_id AND t.step_slug = skip_exhausted_step.step_slug
      AND t.task_index = a.task_index AND t.status IN ('queued', 'started')
    RETURNING t.task_index, t.message_id)
  SELECT array_agg(s.message_id) FILTER (WHERE s.message_id IS NOT NULL), array_agg(s.task_index)
  INTO messages, indexes FROM skipped AS s;
  IF skip_exhausted_step.task_message IS NOT NULL THEN
    messages := coalesce(messages, '{}') || skip_exhausted_step.task_message;
  END IF;
  IF messages IS NOT NULL THEN
    PERFORM pgmq.archive(skip_exhausted_step.flow_slug, messages);
  END IF;
  -- The slots the skipped siblings held under a step concurrency limit go at once, and as many
  -- refused tasks are shown again.
  IF indexes IS NOT NULL THEN
    PERFORM pgflow_cpp._release_task_slots(array_fill(skip_exhausted_step.run_id, ARRAY[cardinality(indexes)]),
                                           array_fill(skip_exhausted_step.step_slug, ARRAY[cardinality(indexes)]),
                                           indexes);
  END IF;

  PERFORM pgflow_cpp.broadcast(
    jsonb_build_object(
      'event_type', 'step:skipped',
      'run_id', skip_exhausted_step.run_id,
      'step_slug', skip_exhausted_step.step_slug,
      'status', 'skipped',
      'skip_reason', 'handler_failed',
      'error_message', skip_exhausted_step.error_message,
      'skipped_at', skipped_time
    ),
    'step:' || skip_exhausted_step.step_slug || ':skipped',
    skip_exhausted_step.run_id);

  IF cascade_to_dependents THEN
    -- The step itself is skipped already: only its dependents change.
    PERFORM pgflow._cascade_force_skip_steps(skip_exhausted_step.run_id, skip_exhausted_step.step_slug,
                                             'handler_failed');
  ELSE
    UPDATE pgflow.step_states AS child
    SET remaining_deps = child.remaining_deps - 1,
        initial_tasks = CASE WHEN cs.step_type = 'map' AND cs.deps_count = 1 THEN 0 ELSE child.initial_tasks END
    FROM pgflow.deps AS d
    JOIN pgflow.steps AS cs ON cs.flow_slug = d.flow_slug AND cs.step_slug = d.step_slug
    WHERE d.flow_slug = skip_exhausted_step.flow_slug AND d.dep_slug = skip_exhausted_step.step_slug
      AND child.run_id = skip_exhausted_step.run_id AND child.step_slug = d.step_slug;

    IF NOT pgflow.cascade_resolve_conditions(skip_exhausted_step.run_id) THEN
      RETURN;
    END IF;
    PERFORM pgflow.cascade_complete_taskless_steps(skip_exhausted_step.run_id);
    PERFORM pgflow.start_ready_steps(skip_exhausted_step.run_id);
  END IF;

  PERFORM pgflow.maybe_complete_run(skip_exhausted_step.run_id);
END;
$$;
