-- pgflow.cascade_complete_taskless_steps(run_id) -> int
-- Completes, wave by wave, the run's steps that are ready but have no tasks (initial_tasks = 0:
-- maps over an empty array): each becomes 'completed' with output [] (step:completed broadcast in
-- step_index order), its dependents lose one remaining dep per completed parent (a dependent map
-- learns it is empty too) and runs.remaining_steps drops. Returns how many steps it completed.
-- Times are now(), or the step's created_at when another transaction created it after this one
-- began (as in every function here, so that the tables' ordering CHECKs always hold).
-- After each wave the conditions of the steps it released are evaluated
-- (pgflow.cascade_resolve_conditions), as for any step that becomes ready; a plain skip there can
-- make a dependent map empty, which the next wave completes. (Upstream evaluates nothing here, so
-- a step released by an empty map started whatever its condition: pgflow-cpp fixes that.) Stops
-- when a condition failed the run.
-- Error: 'Cascade loop exceeded safety limit of 50 iterations' (so at most 49 levels).
CREATE OR REPLACE FUNCTION pgflow.cascade_complete_taskless_steps(run_id uuid)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  max_iterations constant integer := 50;
  iterations integer := 0;
  total integer := 0;
  wave_flow text;
  wave_slugs text[];
  wave record;
BEGIN
  LOOP
    iterations := iterations + 1;
    IF iterations > max_iterations THEN
      RAISE EXCEPTION 'Cascade loop exceeded safety limit of % iterations', max_iterations;
    END IF;

    WITH completed AS (
      UPDATE pgflow.step_states AS ss
      SET status = 'completed',
          started_at = greatest(now(), ss.created_at),
          completed_at = greatest(now(), ss.created_at),
          remaining_tasks = 0
      WHERE ss.run_id = cascade_complete_taskless_steps.run_id
        AND ss.status = 'created'
        AND ss.remaining_deps = 0
        AND ss.initial_tasks = 0
      RETURNING ss.flow_slug, ss.step_slug
    )
    SELECT min(c.flow_slug), array_agg(c.step_slug)
    INTO wave_flow, wave_slugs
    FROM completed AS c;

    EXIT WHEN wave_slugs IS NULL;
    total := total + cardinality(wave_slugs);

    UPDATE pgflow.step_states AS ss
    SET remaining_deps = ss.remaining_deps - parents.completed_count,
        initial_tasks = CASE WHEN child.step_type = 'map' THEN 0 ELSE ss.initial_tasks END
    FROM (
      SELECT d.step_slug, count(*)::integer AS completed_count
      FROM pgflow.deps AS d
      WHERE d.flow_slug = wave_flow AND d.dep_slug = ANY (wave_slugs)
      GROUP BY d.step_slug
    ) AS parents
    JOIN pgflow.steps AS child ON child.flow_slug = wave_flow AND child.step_slug = parents.step_slug
    WHERE ss.run_id = cascade_complete_taskless_steps.run_id
      AND ss.step_slug = parents.step_slug;

    UPDATE pgflow.runs AS r
    SET remaining_steps = r.remaining_steps - cardinality(wave_slugs)
    WHERE r.run_id = cascade_complete_taskless_steps.run_id;

    FOR wave IN
      SELECT ss.step_slug, ss.started_at, ss.completed_at
      FROM pgflow.step_states AS ss
      JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
      WHERE ss.run_id = cascade_complete_taskless_steps.run_id
        AND ss.step_slug = ANY (wave_slugs)
      ORDER BY s.step_index
    LOOP
      PERFORM pgflow_cpp.broadcast(
        jsonb_build_object(
          'event_type', 'step:completed',
          'run_id', cascade_complete_taskless_steps.run_id,
          'step_slug', wave.step_slug,
          'status', 'completed',
          'started_at', wave.started_at,
          'completed_at', wave.completed_at,
          'remaining_tasks', 0,
          'remaining_deps', 0,
          'output', '[]'::jsonb
        ),
        'step:' || wave.step_slug || ':completed',
        cascade_complete_taskless_steps.run_id);
    END LOOP;

    EXIT WHEN NOT pgflow.cascade_resolve_conditions(cascade_complete_taskless_steps.run_id);
  END LOOP;

  RETURN total;
END;
$$;
