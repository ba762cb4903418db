-- pgflow_cpp._continue_runs(run_ids, step_slugs, outputs, ords) -> void
-- (Internal: pgflow.complete_tasks' set-wise path for steps that hand on to plain dependents.)
-- For each element i of ords, in order, what complete_task does once it has completed the task
-- run_ids[i] / step_slugs[i] with outputs[i], when that task was its single step's last, the run
-- has other steps to complete, and every dependent of the step is a single handler (or sleep)
-- step without conditions: the step completes, the run counts it off, its dependents count it off,
-- and those left with no dependency start (step:started, one queue message and task row each).
-- Events per element as complete_task sends them: step:<slug>:completed, then step:<dep>:started
-- for each dependent it started in step_slug order; then one queue wake-up per flow that got a
-- message visible at once. The caller holds the tasks, their step_states rows and their runs'
-- rows (complete_tasks' lock order), has checked the conditions above under those locks, and
-- passes either all of a run's elements or none, fewer than the run has steps left. A dependent
-- of several of them starts after the last of them, as one element at a time would start it. The
-- dependents' rows are only changed by the holder of their run's row.
CREATE OR REPLACE FUNCTION pgflow_cpp._continue_runs(run_ids uuid[], step_slugs text[], outputs jsonb[], ords bigint[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  started_ords bigint[];
  started_flows text[];
  started_runs uuid[];
  started_steps text[];
  started_times timestamptz[];
  started_tasks integer[];
  started_delays integer[];
  batch record;
BEGIN
  -- The steps, their runs, then their dependents: one that is left with nothing to wait for starts
  -- in the same row version (complete_task counts it off, then start_ready_steps starts it).
  UPDATE pgflow.step_states AS ss
  SET remaining_tasks = 0, status = 'completed', completed_at = greatest(now(), ss.started_at)
  FROM unnest(_continue_runs.ords) AS o
  WHERE ss.run_id = _continue_runs.run_ids[o] AND ss.step_slug = _continue_runs.step_slugs[o];

  UPDATE pgflow.runs AS r
  SET remaining_steps = r.remaining_steps - c.steps
  FROM (SELECT _continue_runs.run_ids[o] AS run_id, count(*)::integer AS steps
        FROM unnest(_continue_runs.ords) AS o GROUP BY 1) AS c
  WHERE r.run_id = c.run_id;

  WITH counted AS (
    UPDATE pgflow.step_states AS child
    SET remaining_deps = child.remaining_deps - k.completed,
        status = CASE WHEN k.starts THEN 'started' ELSE child.status END,
        started_at = CASE WHEN k.starts THEN greatest(now(), child.created_at) ELSE child.started_at END,
        remaining_tasks = CASE WHEN k.starts THEN child.initial_tasks ELSE child.remaining_tasks END
    -- Per dependent: how many of its dependencies complete here, and the last of them in element
    -- order, whose completion (one element at a time) would have started it.
    -- Every row by its key (LATERAL ... OFFSET 0): planned on small tables, a join could read all
    -- of deps per call.
    FROM (SELECT r.run_id, d.step_slug, count(*)::integer AS completed, max(o) AS o,
                 ss.status = 'created' AND ss.remaining_deps = count(*) AND ss.initial_tasks > 0 AS starts
          FROM unnest(_continue_runs.ords) AS o
          CROSS JOIN LATERAL (SELECT r.run_id, r.flow_slug FROM pgflow.runs AS r
                              WHERE r.run_id = _continue_runs.run_ids[o] OFFSET 0) AS r
          CROSS JOIN LATERAL (SELECT d.step_slug FROM pgflow.deps AS d
                              WHERE d.flow_slug = r.flow_slug AND d.dep_slug = _continue_runs.step_slugs[o] OFFSET 0) AS d
          CROSS JOIN LATERAL (SELECT ss.status, ss.remaining_deps, ss.initial_tasks FROM pgflow.step_states AS ss
                              WHERE ss.run_id = r.run_id AND ss.step_slug = d.step_slug OFFSET 0) AS ss
          GROUP BY r.run_id, d.step_slug, ss.status, ss.remaining_deps, ss.initial_tasks) AS k
    WHERE child.run_id = k.run_id AND child.step_slug = k.step_slug
    RETURNING k.o AS ord, child.flow_slug, child.run_id, child.step_slug, child.started_at, child.remaining_tasks,
              k.starts
  )
  SELECT array_agg(c.ord ORDER BY c.ord, c.step_slug), array_agg(c.flow_slug ORDER BY c.ord, c.step_slug),
         array_agg(c.run_id ORDER BY c.ord, c.step_slug), array_agg(c.step_slug ORDER BY c.ord, c.step_slug),
         array_agg(c.started_at ORDER BY c.ord, c.step_slug), array_agg(c.remaining_tasks ORDER BY c.ord, c.step_slug),
         array_agg(coalesce(s.opt_start_delay, 0) ORDER BY c.ord, c.step_slug)
  INTO started_ords, started_flows, started_runs, started_steps, started_times, started_tasks, started_delays
  FROM counted AS c
  JOIN pgflow.steps AS s ON s.flow_slug = c.flow_slug AND s.step_slug = c.step_slug
  WHERE c.starts;

  -- Each element's step:completed, then the step:started of the dependents it started, in
  -- element order.
  PERFORM pgflow_cpp._broadcast_many(events.run_ids, events.names, events.payloads)
  FROM (SELECT array_agg(e.run_id ORDER BY e.ord, e.k, e.step_slug) AS run_ids,
               array_agg(e.event ORDER BY e.ord, e.k, e.step_slug) AS names,
               array_agg(e.payload ORDER BY e.ord, e.k, e.step_slug) AS payloads
        FROM (SELECT o AS ord, 1 AS k, '' AS step_slug, _continue_runs.run_ids[o] AS run_id,
                     'step:' || _continue_runs.step_slugs[o] || ':completed' AS event,
                     pgflow_cpp._step_completed_event(_continue_runs.run_ids[o], _continue_runs.step_slugs[o],
                                                      ss.completed_at, _continue_runs.outputs[o], false) AS payload
              FROM unnest(_continue_runs.ords) AS o
              CROSS JOIN LATERAL (
                SELECT ss.completed_at FROM pgflow.step_states AS ss
                WHERE ss.run_id = _continue_runs.run_ids[o] AND ss.step_slug = _continue_runs.step_slugs[o]
                OFFSET 0
              ) AS ss
              UNION ALL
              SELECT st.ord, 2, st.step_slug, st.run_id, 'step:' || st.step_slug || ':started',
                     pgflow_cpp._step_started_event(st.run_id, st.step_slug, st.started_at, st.remaining_tasks, 0)
              FROM unnest(started_ords, started_runs, started_steps, started_times, started_tasks)
                     AS st(ord, run_id, step_slug, started_at, remaining_tasks)) AS e) AS events;

  IF started_ords IS NULL THEN
    RETURN;
  END IF;

  -- The started steps' tasks: one pgmq.send_batch per flow and start delay.
  FOR batch IN
    SELECT st.flow_slug, st.start_delay, array_agg(st.run_id ORDER BY st.i, g.task_index) AS runs,
           array_agg(st.step_slug ORDER BY st.i, g.task_index) AS steps,
           array_agg(g.task_index ORDER BY st.i, g.task_index) AS task_indexes
    FROM unnest(started_flows, started_runs, started_steps, started_tasks, started_delays)
           WITH ORDINALITY AS st(flow_slug, run_id, step_slug, tasks, start_delay, i)
    CROSS JOIN LATERAL generate_series(0, st.tasks - 1) AS g(task_index)
    GROUP BY st.flow_slug, st.start_delay
    ORDER BY st.flow_slug, st.start_delay
  LOOP
    PERFORM pgflow_cpp._queue_tasks(batch.flow_slug, batch.runs, batch.steps, batch.task_indexes, batch.start_delay);
    IF batch.start_delay = 0 THEN
      PERFORM pgflow_cpp.notify('pgflow:queue:' || batch.flow_slug, '');
    END IF;
  END LOOP;
END;
$$;
