-- pgflow.cascade_resolve_conditions(run_id) -> boolean
-- (pgflow 0.14 with 0.15.1's changes.) Evaluates the conditions of the run's steps that have just
-- become ready: every step_state still 'created' with no remaining deps whose step has an `if`
-- (required_input_pattern) or `ifNot` (forbidden_input_pattern). The input tested is the run's
-- input for a root step, else {<dep>: <dep output>} over the dependencies that completed (a
-- skipped one has no key). Met: input @> required and NOT input @> forbidden (an unset pattern
-- always passes). Unmet steps, by when_unmet:
--   fail          the first of them by step_index fails ('Condition not met') and the run with it,
--                 provided the run is still 'started' (else nothing happens): step:failed,
--                 run:failed, the run's queued/started tasks become 'cancelled' and their messages
--                 are archived. Returns false.
--   skip          all at once 'skipped' ('condition_unmet'), one step:<slug>:skipped each (with
--                 flow_slug) in step_index order; each child loses one remaining dep per skipped
--                 parent (a dependent map's size becomes 0), remaining_steps drops; repeated
--                 while it skips something, so children released by a skip are evaluated too.
--   skip-cascade  pgflow._cascade_force_skip_steps(run_id, step, 'condition_unmet'), step_index
--                 order (the step and all its dependents are skipped; nothing is released).
-- No task is ever created for a skipped step. Returns true when the run may go on, false when it
-- is (or already was) failed. A run with nothing conditional to evaluate costs one probe (the
-- worker's completions call this). Callers hold the run's row; it is locked here too before
-- anything changes, so that the function is safe on its own.
-- Error: 'cascade_resolve_conditions exceeded safety limit of 50 iterations'.
CREATE OR REPLACE FUNCTION pgflow.cascade_resolve_conditions(run_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  max_iterations constant integer := 50;
  iterations integer := 0;
  run_row record;
  unmet_slugs text[];
  unmet_modes text[];
  failing_slug text;
  skip_slugs text[];
  failed_time timestamptz;
  step_failed_time timestamptz;
  cascade_slug text;
BEGIN
  -- The cheap exit: one probe of the ready steps' partial index (with the steps' keys).
  SELECT r.status,
         EXISTS (SELECT 1
                 FROM pgflow.step_states AS ss
                 JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
                 WHERE ss.run_id = r.run_id AND ss.status = 'created' AND ss.remaining_deps = 0
                   AND (s.required_input_pattern IS NOT NULL OR s.forbidden_input_pattern IS NOT NULL)) AS pending
  INTO run_row
  FROM pgflow.runs AS r WHERE r.run_id = cascade_resolve_conditions.run_id;
  IF run_row.status IS DISTINCT FROM 'started' OR NOT run_row.pending THEN
    RETURN run_row.status IS DISTINCT FROM 'failed';
  END IF;

  LOOP
    iterations := iterations + 1;
    IF iterations > max_iterations THEN
      RAISE EXCEPTION 'cascade_resolve_conditions exceeded safety limit of % iterations', max_iterations;
    END IF;

    SELECT r.flow_slug, r.status, r.input INTO run_row
    FROM pgflow.runs AS r WHERE r.run_id = cascade_resolve_conditions.run_id
    FOR NO KEY UPDATE;
    IF run_row.status <> 'started' THEN
      RETURN run_row.status <> 'failed';
    END IF;

    -- The ready conditional steps whose condition is unmet, by step_index.
    SELECT array_agg(e.step_slug ORDER BY e.step_index), array_agg(e.when_unmet ORDER BY e.step_index)
    INTO unmet_slugs, unmet_modes
    FROM (
      SELECT s.step_slug, s.step_index, s.when_unmet, s.required_input_pattern, s.forbidden_input_pattern,
             CASE
               WHEN s.deps_count = 0 THEN run_row.input
               ELSE coalesce((
                 SELECT json_object_agg(d.dep_slug, pgflow_cpp.step_output(ss.run_id, d.dep_slug, p.step_type))::jsonb
                 FROM pgflow.deps AS d
                 JOIN pgflow.steps AS p ON p.flow_slug = d.flow_slug AND p.step_slug = d.dep_slug
                 JOIN pgflow.step_states AS ds ON ds.run_id = ss.run_id AND ds.step_slug = d.dep_slug
                 WHERE d.flow_slug = s.flow_slug AND d.step_slug = s.step_slug AND ds.status = 'completed'
               ), '{}'::jsonb)
             END AS input
      FROM pgflow.step_states AS ss
      JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
      WHERE ss.run_id = cascade_resolve_conditions.run_id AND ss.status = 'created' AND ss.remaining_deps = 0
        AND (s.required_input_pattern IS NOT NULL OR s.forbidden_input_pattern IS NOT NULL)
    ) AS e
    WHERE NOT ((e.required_input_pattern IS NULL OR e.input @> e.required_input_pattern)
               AND (e.forbidden_input_pattern IS NULL OR NOT e.input @> e.forbidden_input_pattern));

    IF unmet_slugs IS NULL THEN
      RETURN true;
    END IF;

    -- 1. fail: the first such step fails the run (only a run still started: replays change nothing).
    failing_slug := (SELECT u.slug FROM unnest(unmet_slugs, unmet_modes) WITH ORDINALITY AS u(slug, mode, ord)
                     WHERE u.mode = 'fail' ORDER BY u.ord LIMIT 1);
    IF failing_slug IS NOT NULL THEN
      UPDATE pgflow.runs AS r SET status = 'failed', failed_at = greatest(now(), r.started_at)
      WHERE r.run_id = cascade_resolve_conditions.run_id AND r.status = 'started'
      RETURNING r.failed_at INTO failed_time;
      IF FOUND THEN
        UPDATE pgflow.step_states AS ss
        SET status = 'failed', failed_at = greatest(now(), ss.created_at), error_message = 'Condition not met'
        WHERE ss.run_id = cascade_resolve_conditions.run_id AND ss.step_slug = failing_slug
        RETURNING ss.failed_at INTO step_failed_time;

        PERFORM pgflow_cpp.broadcast(
          jsonb_build_object('event_type', 'step:failed', 'run_id', cascade_resolve_conditions.run_id,
                             'step_slug', failing_slug, 'status', 'failed', 'error_message', 'Condition not met',
                             'failed_at', step_failed_time),
          'step:' || failing_slug || ':failed', cascade_resolve_conditions.run_id);
        PERFORM pgflow_cpp.broadcast(
          jsonb_build_object('event_type', 'run:failed', 'run_id', cascade_resolve_conditions.run_id,
                             'flow_slug', run_row.flow_slug, 'status', 'failed', 'error_message', 'Condition not met',
                             'failed_at', failed_time),
          'run:failed', cascade_resolve_conditions.run_id);
        -- Tasks another session holds (a sibling completion waiting for a step row this
        -- transaction holds) are left to it: waiting here would deadlock, and it finds the run failed.
        PERFORM pgflow_cpp.cancel_active_tasks(cascade_resolve_conditions.run_id, run_row.flow_slug, true);
        PERFORM pgflow_cpp.run_finished(cascade_resolve_conditions.run_id);  -- subflows: parent and children
      END IF;
      RETURN false;
    END IF;

    -- 2. skip, all at once.
    WITH skipped AS (
      UPDATE pgflow.step_states AS ss
      SET status = 'skipped', skip_reason = 'condition_unmet', skipped_at = greatest(now(), ss.created_at)
      FROM unnest(unmet_slugs, unmet_modes) AS u(slug, mode)
      WHERE ss.run_id = cascade_resolve_conditions.run_id AND ss.step_slug = u.slug AND u.mode = 'skip'
        AND ss.status = 'created'
      RETURNING ss.step_slug, ss.skipped_at
    ),
    events AS (
      SELECT k.step_slug, pgflow_cpp.broadcast(
               jsonb_build_object('event_type', 'step:skipped', 'run_id', cascade_resolve_conditions.run_id,
                                  'flow_slug', run_row.flow_slug, 'step_slug', k.step_slug, 'status', 'skipped',
                                  'skip_reason', 'condition_unmet', 'skipped_at', k.skipped_at),
               'step:' || k.step_slug || ':skipped', cascade_resolve_conditions.run_id)
      FROM skipped AS k
      JOIN pgflow.steps AS s ON s.flow_slug = run_row.flow_slug AND s.step_slug = k.step_slug
      ORDER BY s.step_index
    )
    SELECT array_agg(e.step_slug) INTO skip_slugs FROM events AS e;

    IF skip_slugs IS NOT NULL THEN
      UPDATE pgflow.step_states AS ss
      SET remaining_deps = ss.remaining_deps - parents.skipped_count,
          initial_tasks = CASE WHEN child.step_type = 'map' AND child.deps_count = 1 THEN 0 ELSE ss.initial_tasks END
      FROM (
        SELECT d.step_slug, count(*)::integer AS skipped_count
        FROM pgflow.deps AS d
        WHERE d.flow_slug = run_row.flow_slug AND d.dep_slug = ANY (skip_slugs)
        GROUP BY d.step_slug
      ) AS parents
      JOIN pgflow.steps AS child ON child.flow_slug = run_row.flow_slug AND child.step_slug = parents.step_slug
      WHERE ss.run_id = cascade_resolve_conditions.run_id AND ss.step_slug = parents.step_slug;

      UPDATE pgflow.runs AS r SET remaining_steps = r.remaining_steps - cardinality(skip_slugs)
      WHERE r.run_id = cascade_resolve_conditions.run_id;
    END IF;

    -- 3. skip-cascade, one trigger at a time (a later one may already be skipped by an earlier one).
    FOR cascade_slug IN
      SELECT u.slug FROM unnest(unmet_slugs, unmet_modes) WITH ORDINALITY AS u(slug, mode, ord)
      WHERE u.mode = 'skip-cascade' ORDER BY u.ord
    LOOP
      PERFORM pgflow._cascade_force_skip_steps(cascade_resolve_conditions.run_id, cascade_slug, 'condition_unmet');
    END LOOP;

    -- Only a plain skip releases children (a cascade skips all of them).
    EXIT WHEN skip_slugs IS NULL;
  END LOOP;

  RETURN true;
END;
$$;
