-- Run limits (pgflow_cpp.set_flow_limits): admission of waiting runs, and the end of a run.

-- pgflow_cpp._begin_run(run_id) -> void
-- What pgflow.start_flow does after creating a run, for a run admitted later: its root steps'
-- conditions, empty steps, the ready steps' tasks, and its completion when nothing is left.
CREATE OR REPLACE FUNCTION pgflow_cpp._begin_run(run_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
BEGIN
  -- A resumed run that waited: its partly completed maps start with their missing tasks first.
  IF EXISTS (SELECT 1 FROM pgflow.step_tasks AS t WHERE t.run_id = _begin_run.run_id) THEN
    PERFORM pgflow_cpp._start_partial_steps(_begin_run.run_id);
  END IF;
  IF NOT pgflow.cascade_resolve_conditions(_begin_run.run_id) THEN
    RETURN;
  END IF;
  PERFORM pgflow.cascade_complete_taskless_steps(_begin_run.run_id);
  PERFORM pgflow.start_ready_steps(_begin_run.run_id);
  PERFORM pgflow.maybe_complete_run(_begin_run.run_id);
END;
$$;

-- pgflow_cpp._admit_runs(flow_slug, new_run_id) -> boolean
-- Admits the flow's waiting runs (pgflow_cpp.limited_runs, admitted_at NULL) while the limits let
-- them in: highest priority first (run_priorities, aged +1 per 10 s since the run was created),
-- then in start order; a run whose key is full is passed over for runs of other keys. Each
-- admitted run but new_run_id is begun here (_begin_run); new_run_id is the run start_flow is
-- creating, which it goes on to begin itself when this returns true (admitted). Runs one after
-- the other per flow: the flow_limits row is locked FOR UPDATE to the end of the transaction, so
-- two sessions never both take the last slot. Without limits (removed) every waiting run goes.
-- Each turn counts afresh: a run begun here may finish at once and admit runs itself (trigger).
CREATE OR REPLACE FUNCTION pgflow_cpp._admit_runs(flow_slug text, new_run_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  lim pgflow_cpp.flow_limits;
  next_run uuid;
  admitted_new boolean := false;
  outer_flow text := current_setting('pgflow_cpp.admitting_flow', true);
BEGIN
  SELECT * INTO lim FROM pgflow_cpp.flow_limits AS l WHERE l.flow_slug = _admit_runs.flow_slug FOR UPDATE;
  -- While this loop runs, a run of this flow that finishes as it begins (an empty map, an unmet
  -- condition) frees its slot without admitting from the trigger (_on_run_finished): the loop
  -- counts again, so a long line of such runs is an iteration here, not a recursion.
  PERFORM set_config('pgflow_cpp.admitting_flow', _admit_runs.flow_slug, true);
  LOOP
    IF lim.max_concurrent_runs IS NOT NULL
       AND (SELECT count(*) FROM pgflow_cpp.limited_runs AS a
            WHERE a.flow_slug = _admit_runs.flow_slug AND a.admitted_at IS NOT NULL) >= lim.max_concurrent_runs THEN
      EXIT;
    END IF;
    SELECT w.run_id INTO next_run
    FROM pgflow_cpp.limited_runs AS w
    LEFT JOIN pgflow_cpp.run_priorities AS p ON p.run_id = w.run_id
    WHERE w.flow_slug = _admit_runs.flow_slug AND w.admitted_at IS NULL
      AND (lim.max_runs_per_key IS NULL
           OR (SELECT count(*) FROM pgflow_cpp.limited_runs AS a
               WHERE a.flow_slug = _admit_runs.flow_slug AND a.key IS NOT DISTINCT FROM w.key
                 AND a.admitted_at IS NOT NULL) < lim.max_runs_per_key)
    ORDER BY coalesce(p.priority, 0) + floor(extract(epoch FROM clock_timestamp() - w.created_at) / 10) DESC, w.seq
    LIMIT 1;
    EXIT WHEN next_run IS NULL;

    UPDATE pgflow_cpp.limited_runs AS w SET admitted_at = clock_timestamp()
    WHERE w.run_id = next_run AND w.admitted_at IS NULL;
    IF NOT FOUND THEN
      -- Admitted meanwhile by a session that saw no limits (removed): nothing to lock then.
      next_run := NULL;
      CONTINUE;
    END IF;
    IF next_run = _admit_runs.new_run_id THEN
      admitted_new := true;
    ELSE
      PERFORM pgflow_cpp._begin_run(next_run);
    END IF;
    next_run := NULL;
  END LOOP;
  PERFORM set_config('pgflow_cpp.admitting_flow', coalesce(outer_flow, ''), true);
  -- Limits gone: nobody waits any longer, and the rows are no longer needed.
  IF lim.flow_slug IS NULL THEN
    DELETE FROM pgflow_cpp.limited_runs AS w WHERE w.flow_slug = _admit_runs.flow_slug;
  END IF;
  RETURN admitted_new;
END;
$$;

-- pgflow_cpp._enter_run(run_id, flow_slug, input) -> boolean
-- Called by pgflow.start_flow for a new run of a flow with run limits: records the run (its key
-- from the input) and tells whether it may begin now (true) or waits (false).
CREATE OR REPLACE FUNCTION pgflow_cpp._enter_run(run_id uuid, flow_slug text, input jsonb)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
BEGIN
  INSERT INTO pgflow_cpp.limited_runs (run_id, flow_slug, key)
  SELECT _enter_run.run_id, _enter_run.flow_slug, _enter_run.input #>> l.concurrency_key
  FROM pgflow_cpp.flow_limits AS l WHERE l.flow_slug = _enter_run.flow_slug;
  IF NOT FOUND THEN
    RETURN true;
  END IF;
  RETURN pgflow_cpp._admit_runs(_enter_run.flow_slug, _enter_run.run_id);
END;
$$;

-- Trigger function: a run left 'started' (completed, failed, cancelled). Moves its priority from
-- run_priorities (read by every claim of its flow) to run_control.priority (read only by retry_run
-- and resume_run) and, for a flow with run limits, frees its slot and admits the runs waiting for it.
CREATE OR REPLACE FUNCTION pgflow_cpp._on_run_finished()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  WITH finished AS (
    DELETE FROM pgflow_cpp.run_priorities AS p WHERE p.run_id = NEW.run_id RETURNING p.priority
  )
  INSERT INTO pgflow_cpp.run_control AS c (run_id, flow_slug, priority)
  SELECT NEW.run_id, NEW.flow_slug, f.priority FROM finished AS f
  ON CONFLICT ON CONSTRAINT run_control_pkey DO UPDATE SET priority = excluded.priority;
  DELETE FROM pgflow_cpp.limited_runs AS w WHERE w.run_id = NEW.run_id;
  IF FOUND AND current_setting('pgflow_cpp.admitting_flow', true) IS DISTINCT FROM NEW.flow_slug THEN
    PERFORM pgflow_cpp._admit_runs(NEW.flow_slug, NULL);
  END IF;
  RETURN NULL;
END;
$$;

-- Fires only when status is set and leaves 'started': once per run (the per-task counter updates
-- of runs do not name status). Created only when missing: CREATE TRIGGER takes a SHARE ROW
-- EXCLUSIVE lock on pgflow.runs, which a re-install while workers run must not hold.
DO $trigger$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgrelid = 'pgflow.runs'::regclass AND tgname = 'pgflow_cpp_run_finished') THEN
    CREATE TRIGGER pgflow_cpp_run_finished
      AFTER UPDATE OF status ON pgflow.runs
      FOR EACH ROW
      WHEN (OLD.status = 'started' AND NEW.status <> 'started')
      EXECUTE FUNCTION pgflow_cpp._on_run_finished();
  END IF;
END
$trigger$;
