-- pgflow_cpp.start_flow_idempotent(flow_slug, input, idempotency_key, run_id = NULL) -> setof pgflow.runs
-- (Addition: not in pgflow 0.8.1.) pgflow.start_flow once per (flow_slug, idempotency_key): the
-- first call starts the run (run_id given or generated) and records the key in
-- pgflow_cpp.run_control; every later call with the same flow and key returns that run's row as
-- it now is and starts nothing (whatever its input or run_id; no event). Concurrent calls with one
-- key wait for each other on a transaction-level advisory lock, so exactly one run is started
-- (the unique constraint run_control_idempotency_key backs it). A key is free again once its run
-- is deleted. Errors: 22004 'idempotency_key must not be NULL', and start_flow's.
-- READ COMMITTED (the default) is assumed: under REPEATABLE READ or SERIALIZABLE the snapshot
-- predates a racing caller's committed key, and the call fails with 23505 (run_control_idempotency_key).
CREATE OR REPLACE FUNCTION pgflow_cpp.start_flow_idempotent(flow_slug text, input jsonb, idempotency_key text,
                                                            run_id uuid DEFAULT NULL)
RETURNS SETOF pgflow.runs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  existing uuid;
  started uuid;
BEGIN
  IF start_flow_idempotent.idempotency_key IS NULL THEN
    RAISE EXCEPTION 'idempotency_key must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('pgflow-cpp idempotency key'),
                                hashtext(start_flow_idempotent.flow_slug || '/' || start_flow_idempotent.idempotency_key));
  SELECT c.run_id INTO existing FROM pgflow_cpp.run_control AS c
  WHERE c.flow_slug = start_flow_idempotent.flow_slug AND c.idempotency_key = start_flow_idempotent.idempotency_key;
  IF existing IS NOT NULL THEN
    RETURN QUERY SELECT * FROM pgflow.runs AS r WHERE r.run_id = existing;
    RETURN;
  END IF;

  SELECT r.run_id INTO started
  FROM pgflow.start_flow(start_flow_idempotent.flow_slug, start_flow_idempotent.input, start_flow_idempotent.run_id) AS r;
  INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, idempotency_key)
  VALUES (started, start_flow_idempotent.flow_slug, start_flow_idempotent.idempotency_key);
  RETURN QUERY SELECT * FROM pgflow.runs AS r WHERE r.run_id = started;
END;
$$;
