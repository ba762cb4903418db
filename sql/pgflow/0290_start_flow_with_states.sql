-- pgflow.start_flow_with_states(flow_slug, input, run_id = NULL) -> jsonb
-- start_flow, then get_run_with_states of the new run. Same errors as start_flow.
-- SECURITY DEFINER: browser clients call it through PostgREST.
CREATE OR REPLACE FUNCTION pgflow.start_flow_with_states(flow_slug text, input jsonb, run_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  started_run uuid;
BEGIN
  SELECT r.run_id INTO started_run
  FROM pgflow.start_flow(start_flow_with_states.flow_slug, start_flow_with_states.input,
                         start_flow_with_states.run_id) AS r
  LIMIT 1;

  RETURN pgflow.get_run_with_states(started_run);
END;
$$;
