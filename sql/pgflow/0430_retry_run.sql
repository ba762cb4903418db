-- pgflow_cpp.lock_restart_source(run_id, action) -> pgflow.runs (internal)
-- The run a retry or resume starts from, locked (FOR NO KEY UPDATE: concurrent restarts of one
-- run queue here, late callbacks of it are not blocked), after checking that it exists, is failed
-- or cancelled, and has not been restarted yet (a run is restarted at most once; lineage is a
-- chain). action ('retried' / 'resumed') only words the errors:
-- P0002 'Run <id> does not exist'; 55000 'Run <id> is started|completed: only a failed or
-- cancelled run can be <action>'; 55000 'Run <id> was already restarted as run <id> (<kind>)'.
CREATE OR REPLACE FUNCTION pgflow_cpp.lock_restart_source(run_id uuid, action text)
RETURNS pgflow.runs
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  source pgflow.runs;
  restart record;
BEGIN
  SELECT * INTO source FROM pgflow.runs AS r WHERE r.run_id = lock_restart_source.run_id FOR NO KEY UPDATE;
  IF source.run_id IS NULL THEN
    RAISE EXCEPTION 'Run % does not exist', lock_restart_source.run_id USING ERRCODE = 'no_data_found';
  END IF;
  IF source.status <> 'failed' THEN
    RAISE EXCEPTION 'Run % is %: only a failed or cancelled run can be %', source.run_id, source.status,
      lock_restart_source.action USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  SELECT c.run_id, c.restart_kind INTO restart
  FROM pgflow_cpp.run_control AS c WHERE c.restart_of_run_id = source.run_id;
  IF restart.run_id IS NOT NULL THEN
    RAISE EXCEPTION 'Run % was already restarted as run % (%)', source.run_id, restart.run_id, restart.restart_kind
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = format('Retry or resume run %s instead.', restart.run_id);
  END IF;
  RETURN source;
END;
$$;

-- pgflow_cpp._restart_priority(source_run_id, new_run_id, flow_slug) -> void (internal)
-- Gives a retry or resume the priority its source run had (run_control.priority, moved there
-- when the source finished: 0610), before the new run exists, so that its admission under run
-- limits already sees it (as start_flow_with_priority does). Nothing for priority 0.
CREATE OR REPLACE FUNCTION pgflow_cpp._restart_priority(source_run_id uuid, new_run_id uuid, flow_slug text)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
  INSERT INTO pgflow_cpp.run_priorities (run_id, flow_slug, priority)
  SELECT _restart_priority.new_run_id, _restart_priority.flow_slug, c.priority
  FROM pgflow_cpp.run_control AS c
  WHERE c.run_id = _restart_priority.source_run_id AND c.priority IS NOT NULL AND c.priority <> 0
$$;

-- pgflow_cpp.retry_run(run_id) -> uuid (the new run)
-- (Addition: not in pgflow 0.8.1; upstream's design #657.) Starts a new run of a failed or
-- cancelled run's flow with the same input through pgflow.start_flow (same events, same
-- everything: no state of the old run is reused; the old run is not changed) and records
-- pgflow_cpp.run_control.restart_of_run_id = run_id, restart_kind = 'retry'. The new run has the
-- old run's priority (start_flow_with_priority).
-- Errors: those of lock_restart_source above, and start_flow's. Two concurrent retries (or a
-- retry and a resume) of one run: the second waits for the first and then fails with
-- 'Run <id> was already restarted as run <new id> (retry)' (SQLSTATE 55000).
CREATE OR REPLACE FUNCTION pgflow_cpp.retry_run(run_id uuid)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  source pgflow.runs := pgflow_cpp.lock_restart_source(retry_run.run_id, 'retried');
  new_run uuid := gen_random_uuid();
BEGIN
  PERFORM pgflow_cpp._restart_priority(source.run_id, new_run, source.flow_slug);
  PERFORM pgflow.start_flow(source.flow_slug, source.input, new_run);
  -- A run that ended within start_flow (e.g. its maps were empty) may have its row already: its
  -- priority, moved there as it finished.
  INSERT INTO pgflow_cpp.run_control AS c (run_id, flow_slug, restart_of_run_id, restart_kind)
  VALUES (new_run, source.flow_slug, source.run_id, 'retry')
  ON CONFLICT ON CONSTRAINT run_control_pkey DO UPDATE
  SET restart_of_run_id = excluded.restart_of_run_id, restart_kind = excluded.restart_kind;
  RETURN new_run;
END;
$$;
