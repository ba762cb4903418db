-- pgflow_cpp._start_partial_steps(run_id) -> void
-- A resumed run's partly completed steps (status 'created' with completed tasks copied from the old
-- run) start with their missing tasks only, as start_ready_steps starts a step: event, then one
-- message per task (a signal or subflow map's missing tasks wait instead). Called by resume_run,
-- or by _begin_run when a resumed run waited for run limits. Nothing to do for other runs.
CREATE OR REPLACE FUNCTION pgflow_cpp._start_partial_steps(run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  flow text;
  partial record;
  missing integer[];
  wake boolean := false;
BEGIN
  SELECT r.flow_slug INTO flow FROM pgflow.runs AS r WHERE r.run_id = _start_partial_steps.run_id;
  -- Partly completed steps start here with their missing tasks (start_ready_steps would create
  -- them all), as start_ready_steps starts a step: event, then one message per task.
  FOR partial IN
    WITH done AS (
      SELECT t.step_slug, count(*)::integer AS tasks FROM pgflow.step_tasks AS t
      WHERE t.run_id = _start_partial_steps.run_id GROUP BY t.step_slug
    ),
    marked AS (
      UPDATE pgflow.step_states AS ss
      SET status = 'started', started_at = now(), remaining_tasks = ss.initial_tasks - done.tasks
      FROM done
      WHERE ss.run_id = _start_partial_steps.run_id AND ss.step_slug = done.step_slug AND ss.status = 'created'
      RETURNING ss.step_slug, ss.started_at, ss.remaining_tasks, ss.remaining_deps, ss.initial_tasks
    )
    SELECT m.*, coalesce(s.opt_start_delay, 0) AS start_delay, k.kind
    FROM marked AS m
    JOIN pgflow.steps AS s ON s.flow_slug = flow AND s.step_slug = m.step_slug
    LEFT JOIN pgflow_cpp.step_kinds AS k ON k.flow_slug = flow AND k.step_slug = m.step_slug
    ORDER BY m.step_slug
  LOOP
    IF partial.remaining_tasks <= 0 OR partial.remaining_deps <> 0 THEN
      RAISE EXCEPTION 'Resumed run % cannot start: step % of it is not completed but has % completed tasks of %',
        _start_partial_steps.run_id, partial.step_slug, partial.initial_tasks - partial.remaining_tasks, partial.initial_tasks
        USING ERRCODE = 'data_corrupted';
    END IF;
    PERFORM pgflow_cpp.broadcast(
      pgflow_cpp._step_started_event(_start_partial_steps.run_id, partial.step_slug, partial.started_at,
                                     partial.remaining_tasks, partial.remaining_deps),
      'step:' || partial.step_slug || ':started',
      _start_partial_steps.run_id);

    missing := ARRAY(SELECT i FROM generate_series(0, partial.initial_tasks - 1) AS i
                     WHERE NOT EXISTS (SELECT 1 FROM pgflow.step_tasks AS t
                                       WHERE t.run_id = _start_partial_steps.run_id AND t.step_slug = partial.step_slug AND t.task_index = i)
                     ORDER BY i);
    -- A signal or subflow map's missing tasks wait (no message), as start_ready_steps makes them.
    IF partial.kind IN ('signal', 'subflow') THEN
      PERFORM pgflow_cpp.start_waiting_tasks(_start_partial_steps.run_id, flow, partial.step_slug, partial.kind, missing);
      CONTINUE;
    END IF;
    PERFORM pgflow_cpp._queue_tasks(flow, array_fill(_start_partial_steps.run_id, ARRAY[cardinality(missing)]),
                                    array_fill(partial.step_slug, ARRAY[cardinality(missing)]), missing,
                                    partial.start_delay::integer);
    wake := wake OR partial.start_delay = 0;
  END LOOP;
  IF wake THEN
    PERFORM pgflow_cpp.notify('pgflow:queue:' || flow, '');
  END IF;

END;
$$;

-- pgflow_cpp.resume_run(run_id) -> uuid (the new run)
-- (Addition: not in pgflow 0.8.1; upstream's design #658, task-level.) Starts a new run of a
-- failed or cancelled run's flow with the same input that reuses what the old run completed and
-- runs only the rest: every completed step is created completed with copies of its completed
-- tasks (their outputs, attempts, times and workers; no message), every completed task of a step
-- that did not complete (a partly completed map, including a map step that failed) is copied the
-- same way, and that step starts with tasks (and queue messages) for the missing indexes only.
-- A skipped step (pgflow 0.14: condition unmet, exhausted with when_exhausted skip, or a skipped
-- dependency's cascade) stays skipped, with its skip_reason and error: its condition would see
-- the same input, and its dependents went on without it. The other steps are created waiting for
-- the dependencies the old run neither completed nor skipped, then the run goes on as any run
-- does: the conditions of the steps ready now are resolved (cascade_resolve_conditions; a 'fail'
-- condition fails the new run, which is still returned), empty steps complete, ready steps start,
-- the run completes when nothing is left; so its output is the one an uninterrupted run gives.
-- Records run_control.restart_of_run_id = run_id, restart_kind = 'resume'; the new run has the old
-- run's priority (start_flow_with_priority). A flow with run limits:
-- the new run waits for a slot like a new run (0610), its partly completed steps started when admitted.
-- Events: run:started, then step:<slug>:started for the steps started (partly done maps first),
-- exactly as a run started by start_flow; none for the reused (completed or skipped) steps.
-- Errors: those of lock_restart_source (0430: P0002 unknown run; 55000 not failed/cancelled;
-- 55000 already restarted); 55000 'Run <id> cannot be resumed: flow <slug> has changed shape since
-- the run started (steps added: <slugs>)' — the steps a run has states for cannot be removed or
-- changed (foreign keys), so steps added later are the only possible change of shape.
CREATE OR REPLACE FUNCTION pgflow_cpp.resume_run(run_id uuid)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  source pgflow.runs := pgflow_cpp.lock_restart_source(resume_run.run_id, 'resumed');
  new_run uuid := gen_random_uuid();
  created pgflow.runs;
  added text;
BEGIN
  SELECT string_agg(s.step_slug, ', ' ORDER BY s.step_index) INTO added
  FROM pgflow.steps AS s
  WHERE s.flow_slug = source.flow_slug
    AND NOT EXISTS (SELECT 1 FROM pgflow.step_states AS ss WHERE ss.run_id = source.run_id AND ss.step_slug = s.step_slug);
  IF added IS NOT NULL THEN
    RAISE EXCEPTION 'Run % cannot be resumed: flow % has changed shape since the run started (steps added: %)',
      source.run_id, source.flow_slug, added
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'pgflow_cpp.retry_run starts it again from the beginning.';
  END IF;

  PERFORM pgflow_cpp._restart_priority(source.run_id, new_run, source.flow_slug);
  INSERT INTO pgflow.runs (run_id, flow_slug, input, remaining_steps)
  VALUES (new_run, source.flow_slug, source.input,
          (SELECT count(*) FROM pgflow.step_states AS ss
           WHERE ss.run_id = source.run_id AND ss.status NOT IN ('completed', 'skipped')))
  RETURNING * INTO created;

  -- initial_tasks is the old run's: 1 for single steps, the input's length for root maps, and for
  -- a dependent map the size its dependency gave it (NULL while that dependency had not completed).
  -- (A map whose only dependency was skipped has initial_tasks 0 already.)
  INSERT INTO pgflow.step_states (flow_slug, run_id, step_slug, status, remaining_tasks, remaining_deps,
                                  started_at, completed_at, initial_tasks, skip_reason, skipped_at, error_message)
  SELECT s.flow_slug, new_run, s.step_slug,
         CASE WHEN old.status IN ('completed', 'skipped') THEN old.status ELSE 'created' END,
         CASE WHEN old.status = 'completed' THEN 0 END,
         CASE WHEN old.status IN ('completed', 'skipped') THEN 0 ELSE
           (SELECT count(*) FROM pgflow.deps AS d
            JOIN pgflow.step_states AS od ON od.run_id = source.run_id AND od.step_slug = d.dep_slug
            WHERE d.flow_slug = s.flow_slug AND d.step_slug = s.step_slug
              AND od.status NOT IN ('completed', 'skipped')) END,
         CASE WHEN old.status = 'completed' THEN now() END,
         CASE WHEN old.status = 'completed' THEN now() END,
         old.initial_tasks,
         CASE WHEN old.status = 'skipped' THEN old.skip_reason END,
         CASE WHEN old.status = 'skipped' THEN now() END,
         CASE WHEN old.status = 'skipped' THEN old.error_message END
  FROM pgflow.steps AS s
  JOIN pgflow.step_states AS old ON old.run_id = source.run_id AND old.step_slug = s.step_slug
  WHERE s.flow_slug = source.flow_slug;

  -- Only steps whose dependencies all completed or were skipped can have completed tasks; those of
  -- a skipped step (a map skipped when one of its tasks was exhausted) are not carried over.
  INSERT INTO pgflow.step_tasks (flow_slug, run_id, step_slug, message_id, task_index, status, attempts_count,
                                 error_message, output, queued_at, completed_at, started_at, last_worker_id)
  SELECT t.flow_slug, new_run, t.step_slug, NULL, t.task_index, 'completed', t.attempts_count,
         t.error_message, t.output, t.queued_at, t.completed_at, t.started_at, t.last_worker_id
  FROM pgflow.step_tasks AS t
  WHERE t.run_id = source.run_id AND t.status = 'completed' COLLATE "C"  -- by key: see step_output
    AND NOT EXISTS (SELECT 1 FROM pgflow.step_states AS ss
                    WHERE ss.run_id = source.run_id AND ss.step_slug = t.step_slug AND ss.status = 'skipped');

  PERFORM pgflow_cpp.broadcast(pgflow_cpp._run_started_event(created), 'run:started', created.run_id);

  -- A flow with run limits: the resumed run waits for a slot like a new run (pgflow_cpp._enter_run);
  -- admitted later, pgflow_cpp._begin_run starts its partly completed steps and the rest.
  INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, restart_of_run_id, restart_kind)
  VALUES (new_run, source.flow_slug, source.run_id, 'resume');
  IF EXISTS (SELECT 1 FROM pgflow_cpp.flow_limits AS fl WHERE fl.flow_slug = source.flow_slug)
     AND NOT pgflow_cpp._enter_run(new_run, source.flow_slug, source.input) THEN
    RETURN new_run;
  END IF;
  PERFORM pgflow_cpp._start_partial_steps(new_run);

  -- Steps ready now have their conditions resolved before anything starts them (as start_flow).
  IF pgflow.cascade_resolve_conditions(new_run) THEN
    PERFORM pgflow.cascade_complete_taskless_steps(new_run);
    PERFORM pgflow.start_ready_steps(new_run);
    PERFORM pgflow.maybe_complete_run(new_run);
  END IF;

  RETURN new_run;
END;
$$;
