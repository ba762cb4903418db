-- pgflow.start_flow(flow_slug, input, run_id = NULL) -> setof pgflow.runs
-- Creates a run (run_id given or generated) with one step_state per step, broadcasts run:started,
-- evaluates the root steps' conditions (pgflow 0.14: cascade_resolve_conditions; a `fail` one that
-- is unmet fails the run, and the failed run row is returned with no task created), completes
-- taskless steps (empty root maps and their empty descendants), starts the ready steps and
-- completes the run if nothing is left; returns the run row as it then is.
-- Errors: 'Flow <slug> has root map steps but input is NULL' / '... input is not an array (got <t>)';
-- runs_flow_slug_fkey (unknown flow); NOT NULL on runs.input; runs_pkey (run_id taken).
CREATE OR REPLACE FUNCTION pgflow.start_flow(flow_slug text, input jsonb, run_id uuid DEFAULT NULL)
RETURNS SETOF pgflow.runs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  created pgflow.runs;
  taskless boolean;
  root_maps boolean;
  conditional boolean;
  limited boolean;
  waiting_roots boolean;
  at_once boolean;
  wake boolean := false;
  root record;
  run_started jsonb;
BEGIN
  SELECT coalesce(bool_or(s.step_type = 'map' AND s.deps_count = 0), false),
         coalesce(bool_or(s.required_input_pattern IS NOT NULL OR s.forbidden_input_pattern IS NOT NULL), false)
  INTO root_maps, conditional
  FROM pgflow.steps AS s WHERE s.flow_slug = start_flow.flow_slug;
  IF root_maps THEN
    IF start_flow.input IS NULL THEN
      RAISE EXCEPTION 'Flow % has root map steps but input is NULL', start_flow.flow_slug;
    END IF;
    IF jsonb_typeof(start_flow.input) <> 'array' THEN
      RAISE EXCEPTION 'Flow % has root map steps but input is not an array (got %)',
        start_flow.flow_slug, jsonb_typeof(start_flow.input);
    END IF;
  END IF;

  INSERT INTO pgflow.runs (run_id, flow_slug, input, remaining_steps)
  VALUES (
    coalesce(start_flow.run_id, gen_random_uuid()),
    start_flow.flow_slug,
    start_flow.input,
    (SELECT count(*) FROM pgflow.steps AS s WHERE s.flow_slug = start_flow.flow_slug)
  )
  RETURNING * INTO created;

  -- Read after the run's insert, which waits for the flow's row: set_step_kind locks it (FOR UPDATE)
  -- while it makes a handler step a waiting one, so a run starting meanwhile sees the new kind
  -- (and the run limits are read where they always were).
  SELECT EXISTS (SELECT 1 FROM pgflow_cpp.flow_limits AS fl WHERE fl.flow_slug = start_flow.flow_slug),
         EXISTS (SELECT 1 FROM pgflow_cpp.step_kinds AS k
                 JOIN pgflow.steps AS s ON s.flow_slug = k.flow_slug AND s.step_slug = k.step_slug
                 WHERE k.flow_slug = start_flow.flow_slug AND s.deps_count = 0 AND k.kind IN ('signal', 'subflow'))
  INTO limited, waiting_roots;

  -- A run that has steps and starts its root steps with tasks at once (no condition to evaluate,
  -- no run limit to wait for, no root map over [], no root step whose tasks wait for a signal or
  -- a child run) creates them started and queues their tasks here: what start_ready_steps would
  -- do, without its second pass over the rows.
  at_once := created.remaining_steps > 0 AND NOT conditional AND NOT limited AND NOT waiting_roots
             AND NOT (root_maps AND jsonb_array_length(created.input) = 0);

  -- initial_tasks: 1 for single steps, the input's length for root maps, unknown (NULL) for
  -- dependent maps until their dependency completes.
  WITH inserted AS (
    INSERT INTO pgflow.step_states (flow_slug, run_id, step_slug, remaining_deps, initial_tasks, status, started_at,
                                    remaining_tasks)
    SELECT s.flow_slug, created.run_id, s.step_slug, s.deps_count, n.initial_tasks,
           CASE WHEN at_once AND s.deps_count = 0 THEN 'started' ELSE 'created' END,
           CASE WHEN at_once AND s.deps_count = 0 THEN now() END,
           CASE WHEN at_once AND s.deps_count = 0 THEN n.initial_tasks END
    FROM pgflow.steps AS s
    CROSS JOIN LATERAL (
      SELECT CASE
               WHEN s.step_type = 'map' AND s.deps_count = 0 THEN
                 CASE WHEN jsonb_typeof(created.input) = 'array' THEN jsonb_array_length(created.input) ELSE 1 END
               WHEN s.step_type = 'map' THEN NULL
               ELSE 1
             END AS initial_tasks
    ) AS n
    WHERE s.flow_slug = start_flow.flow_slug
    RETURNING step_states.initial_tasks
  )
  SELECT coalesce(bool_or(i.initial_tasks = 0), false) INTO taskless FROM inserted AS i;

  run_started := pgflow_cpp._run_started_event(created);

  IF at_once THEN
    -- run:started, then each root step's step:started in step_slug order; then their tasks.
    PERFORM pgflow_cpp._broadcast_many(array_fill(created.run_id, ARRAY[1 + count(*)::integer]),
                                       ARRAY['run:started'] || array_agg('step:' || ss.step_slug || ':started'
                                                                         ORDER BY ss.step_slug),
                                       ARRAY[run_started] || array_agg(pgflow_cpp._step_started_event(
                                                                         created.run_id, ss.step_slug, ss.started_at,
                                                                         ss.remaining_tasks, 0)
                                                                       ORDER BY ss.step_slug))
    FROM pgflow.step_states AS ss
    WHERE ss.run_id = created.run_id AND ss.status = 'started';
    FOR root IN
      SELECT ss.step_slug, ss.remaining_tasks, coalesce(s.opt_start_delay, 0) AS start_delay
      FROM pgflow.step_states AS ss
      JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
      WHERE ss.run_id = created.run_id AND ss.status = 'started'
      ORDER BY ss.step_slug
    LOOP
      PERFORM pgflow_cpp._queue_tasks(created.flow_slug, array_fill(created.run_id, ARRAY[root.remaining_tasks]),
                                      array_fill(root.step_slug, ARRAY[root.remaining_tasks]),
                                      ARRAY(SELECT generate_series(0, root.remaining_tasks - 1)), root.start_delay);
      wake := wake OR root.start_delay = 0;
    END LOOP;
    IF wake THEN
      PERFORM pgflow_cpp.notify('pgflow:queue:' || created.flow_slug, '');
    END IF;
    RETURN QUERY SELECT * FROM pgflow.runs AS r WHERE r.run_id = created.run_id;
    RETURN;
  END IF;

  PERFORM pgflow_cpp.broadcast(run_started, 'run:started', created.run_id);

  -- A flow with run limits (pgflow_cpp.set_flow_limits): a run over them is created but waits,
  -- no step started, until a finishing run admits it (pgflow_cpp._admit_runs begins it then).
  IF limited THEN
    IF NOT pgflow_cpp._enter_run(created.run_id, created.flow_slug, created.input) THEN
      RETURN QUERY SELECT * FROM pgflow.runs AS r WHERE r.run_id = created.run_id;
      RETURN;
    END IF;
  END IF;

  -- Conditions first: a skipped step is never started, and a failed run starts nothing.
  IF conditional THEN
    IF NOT pgflow.cascade_resolve_conditions(created.run_id) THEN
      RETURN QUERY SELECT * FROM pgflow.runs AS r WHERE r.run_id = created.run_id;
      RETURN;
    END IF;
  END IF;

  -- The cascade and the run's completion can only do something for a run with an empty step (a
  -- root map over []), without steps, or whose conditions skipped steps (which may empty a
  -- dependent map or leave nothing to run); other runs skip the two calls.
  taskless := taskless OR conditional;
  IF taskless OR created.remaining_steps = 0 THEN
    PERFORM pgflow.cascade_complete_taskless_steps(created.run_id);
  END IF;
  PERFORM pgflow.start_ready_steps(created.run_id);
  IF taskless OR created.remaining_steps = 0 THEN
    PERFORM pgflow.maybe_complete_run(created.run_id);
  END IF;

  RETURN QUERY SELECT * FROM pgflow.runs AS r WHERE r.run_id = created.run_id;
END;
$$;
