-- pgflow.start_ready_steps(run_id) -> void
-- Starts every step of the run that is 'created' with no remaining deps and a known, non-zero task
-- count (nothing on a failed or completed run, as in pgflow 0.14): status 'started', remaining_tasks = initial_tasks, a
-- step:started broadcast, then per step (in step_slug order) one queue message per task sent with
-- one pgmq.send_batch (delayed by opt_start_delay) and one step_tasks row per message. When any
-- message is visible at once, NOTIFY pgflow:queue:<flow_slug> wakes idle workers.
-- A ready step known to be empty (initial_tasks = 0) is completed by
-- cascade_complete_taskless_steps, which keeps the run's counters right.
-- A signal or subflow step (pgflow_cpp.step_kinds) gets its tasks without messages: they wait for
-- their signal or child run (pgflow_cpp.start_waiting_tasks, step:<slug>:waiting per task).
CREATE OR REPLACE FUNCTION pgflow.start_ready_steps(run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  run_flow text;
  run_status text;
  started record;
  wake boolean := false;
BEGIN
  SELECT r.flow_slug, r.status INTO run_flow, run_status
  FROM pgflow.runs AS r WHERE r.run_id = start_ready_steps.run_id;
  IF run_status IS DISTINCT FROM 'started' THEN
    RETURN;
  END IF;

  IF EXISTS (SELECT 1 FROM pgflow.step_states AS ss
             WHERE ss.run_id = start_ready_steps.run_id AND ss.status = 'created'
               AND ss.remaining_deps = 0 AND ss.initial_tasks = 0) THEN
    PERFORM pgflow.cascade_complete_taskless_steps(start_ready_steps.run_id);
  END IF;

  FOR started IN
    WITH ready AS (
      SELECT ss.step_slug
      FROM pgflow.step_states AS ss
      WHERE ss.run_id = start_ready_steps.run_id
        AND ss.status = 'created'
        AND ss.remaining_deps = 0
        AND ss.initial_tasks > 0
      ORDER BY ss.step_slug
      FOR NO KEY UPDATE
    ),
    marked AS (
      UPDATE pgflow.step_states AS ss
      SET status = 'started',
          started_at = greatest(now(), ss.created_at),
          remaining_tasks = ss.initial_tasks
      FROM ready
      WHERE ss.run_id = start_ready_steps.run_id
        AND ss.step_slug = ready.step_slug
        AND ss.status = 'created'
      RETURNING ss.step_slug, ss.started_at, ss.remaining_tasks, ss.remaining_deps, ss.initial_tasks
    )
    SELECT m.*, coalesce(s.opt_start_delay, 0) AS start_delay, k.kind
    FROM marked AS m
    JOIN pgflow.steps AS s ON s.flow_slug = run_flow AND s.step_slug = m.step_slug
    LEFT JOIN pgflow_cpp.step_kinds AS k ON k.flow_slug = run_flow AND k.step_slug = m.step_slug
    ORDER BY m.step_slug
  LOOP
    PERFORM pgflow_cpp.broadcast(
      pgflow_cpp._step_started_event(start_ready_steps.run_id, started.step_slug, started.started_at,
                                     started.remaining_tasks, started.remaining_deps),
      'step:' || started.step_slug || ':started',
      start_ready_steps.run_id);

    -- A signal or subflow step's tasks get no message: they wait (pgflow_cpp.start_waiting_tasks).
    IF started.kind IN ('signal', 'subflow') THEN
      PERFORM pgflow_cpp.start_waiting_tasks(start_ready_steps.run_id, run_flow, started.step_slug, started.kind,
                                             ARRAY(SELECT generate_series(0, started.initial_tasks - 1)));
      CONTINUE;
    END IF;

    PERFORM pgflow_cpp._queue_tasks(run_flow, array_fill(start_ready_steps.run_id, ARRAY[started.initial_tasks]),
                                    array_fill(started.step_slug, ARRAY[started.initial_tasks]),
                                    ARRAY(SELECT generate_series(0, started.initial_tasks - 1)),
                                    started.start_delay::integer);

    wake := wake OR started.start_delay = 0;
  END LOOP;

  IF wake THEN
    PERFORM pgflow_cpp.notify('pgflow:queue:' || run_flow, '');
  END IF;
END;
$$;
