-- pgflow._archive_task_message(p_run_id, p_step_slug, p_task_index) -> void
-- (Internal, pgflow 0.14.) Archives one task's queue message if it has one; the queue is the flow's.
-- Used where a late completion or failure finds its step no longer running.
CREATE OR REPLACE FUNCTION pgflow._archive_task_message(p_run_id uuid, p_step_slug text, p_task_index integer)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  task record;
BEGIN
  SELECT t.flow_slug, t.message_id INTO task
  FROM pgflow.step_tasks AS t
  WHERE t.run_id = p_run_id AND t.step_slug = p_step_slug AND t.task_index = p_task_index;
  IF task.message_id IS NOT NULL THEN
    PERFORM pgmq.archive(task.flow_slug, task.message_id);
  END IF;
END;
$$;

-- pgflow._cascade_force_skip_steps(run_id, step_slug, skip_reason) -> integer
-- (Internal, pgflow 0.14 with 0.15.1's task statuses.) Skips a step and every step that depends on
-- it, transitively: each of them still `created` or `started` becomes `skipped` (the trigger with
-- skip_reason, the others with 'dependency_skipped'), one step:<slug>:skipped event each in
-- dependency order (step_index: a step's dependencies are registered before it), their queued or
-- started tasks become `skipped`, their messages are archived (task rows before queue rows,
-- upstream's lock order) and their concurrency slots freed (_release_task_slots), and the run's
-- remaining_steps drops by the number skipped. Nobody's remaining_deps changes: every dependent is
-- skipped too. Steps skipped before are left alone, so a second call returns 0 and sends nothing.
-- Callers hold the run's row; it is locked here as well so that the function is safe on its own.
-- skipped_at is now(), or the step's created_at when another transaction created it after this
-- one began (skipped_at_is_after_created_at holds).
CREATE OR REPLACE FUNCTION pgflow._cascade_force_skip_steps(run_id uuid, step_slug text, skip_reason text)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  run_flow_slug text;
  skipped_count integer;
  skipped_slugs text[];
  messages bigint[];
  task_steps text[];
  task_indexes integer[];
BEGIN
  SELECT r.flow_slug INTO run_flow_slug
  FROM pgflow.runs AS r WHERE r.run_id = _cascade_force_skip_steps.run_id FOR NO KEY UPDATE;
  IF run_flow_slug IS NULL THEN
    RAISE EXCEPTION 'Run not found: %', _cascade_force_skip_steps.run_id;
  END IF;

  WITH RECURSIVE affected(step_slug) AS (
    SELECT _cascade_force_skip_steps.step_slug
    UNION
    SELECT d.step_slug
    FROM pgflow.deps AS d
    JOIN affected AS a ON a.step_slug = d.dep_slug
    WHERE d.flow_slug = run_flow_slug
  ),
  skipped AS (
    UPDATE pgflow.step_states AS ss
    SET status = 'skipped',
        skip_reason = CASE WHEN ss.step_slug = _cascade_force_skip_steps.step_slug
                           THEN _cascade_force_skip_steps.skip_reason ELSE 'dependency_skipped' END,
        skipped_at = greatest(now(), ss.created_at),
        remaining_tasks = NULL
    FROM affected AS a
    WHERE ss.run_id = _cascade_force_skip_steps.run_id AND ss.step_slug = a.step_slug
      AND ss.status IN ('created', 'started')
    RETURNING ss.step_slug, ss.skip_reason, ss.skipped_at
  ),
  events AS (
    SELECT s.step_slug, pgflow_cpp.broadcast(
             jsonb_build_object('event_type', 'step:skipped', 'run_id', _cascade_force_skip_steps.run_id,
                                'flow_slug', run_flow_slug, 'step_slug', s.step_slug, 'status', 'skipped',
                                'skip_reason', s.skip_reason, 'skipped_at', s.skipped_at),
             'step:' || s.step_slug || ':skipped', _cascade_force_skip_steps.run_id)
    FROM skipped AS s
    JOIN pgflow.steps AS st ON st.flow_slug = run_flow_slug AND st.step_slug = s.step_slug
    ORDER BY st.step_index
  )
  SELECT count(*)::integer, array_agg(e.step_slug) INTO skipped_count, skipped_slugs FROM events AS e;

  IF skipped_count = 0 THEN
    RETURN 0;
  END IF;

  WITH skipped_tasks AS (
    UPDATE pgflow.step_tasks AS t SET status = 'skipped'
    WHERE t.run_id = _cascade_force_skip_steps.run_id AND t.step_slug = ANY (skipped_slugs)
      AND t.status IN ('queued', 'started')
    RETURNING t.step_slug, t.task_index, t.message_id)
  SELECT array_agg(s.message_id) FILTER (WHERE s.message_id IS NOT NULL), array_agg(s.step_slug),
         array_agg(s.task_index)
  INTO messages, task_steps, task_indexes FROM skipped_tasks AS s;
  IF messages IS NOT NULL THEN
    PERFORM pgmq.archive(run_flow_slug, messages);
  END IF;
  -- Slots the skipped tasks held under step concurrency limits go at once, as for a cancelled run.
  IF task_indexes IS NOT NULL THEN
    PERFORM pgflow_cpp._release_task_slots(array_fill(_cascade_force_skip_steps.run_id,
                                                      ARRAY[cardinality(task_indexes)]),
                                           task_steps, task_indexes);
  END IF;

  UPDATE pgflow.runs AS r SET remaining_steps = r.remaining_steps - skipped_count
  WHERE r.run_id = _cascade_force_skip_steps.run_id;
  RETURN skipped_count;
END;
$$;
