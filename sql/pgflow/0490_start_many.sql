-- pgflow_cpp.start_many(flow_slug, inputs, run_ids = NULL) -> setof pgflow.runs
-- Starts one run per element of inputs in one call and one transaction: all of them or, when one
-- is refused, none. Each run is started by pgflow.start_flow (same events, same errors, prefixed
-- with the element's position); the rows come back in the order of inputs. run_ids, when given,
-- names each run (same length as inputs; a NULL element is generated), which makes a batch whose
-- answer was lost safe to send again: the retry fails on runs_pkey and starts nothing twice.
-- Errors: 22023 when inputs or run_ids is not one-dimensional, or their lengths differ.
CREATE OR REPLACE FUNCTION pgflow_cpp.start_many(flow_slug text, inputs jsonb[], run_ids uuid[] DEFAULT NULL)
RETURNS SETOF pgflow.runs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  n constant integer := coalesce(cardinality(start_many.inputs), 0);
  at integer := 0;  -- the input being started, for the error (FOR's own variable is gone in the handler)
BEGIN
  -- inputs[k] of a two-dimensional array is NULL: say what is wrong instead of "input is NULL".
  IF coalesce(array_ndims(start_many.inputs), 1) <> 1 OR coalesce(array_ndims(start_many.run_ids), 1) <> 1 THEN
    RAISE EXCEPTION 'start_many: inputs and run_ids must be one-dimensional arrays (got % and % dimensions)',
      coalesce(array_ndims(start_many.inputs), 1), coalesce(array_ndims(start_many.run_ids), 1)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF start_many.run_ids IS NOT NULL AND cardinality(start_many.run_ids) <> n THEN
    RAISE EXCEPTION 'start_many: % inputs but % run ids (give one run id per input, or none)',
      n, cardinality(start_many.run_ids)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- One exception block around the loop, not one per run: each block is a subtransaction, and a
  -- batch of hundreds would overflow the per-backend subtransaction cache, slowing every snapshot.
  BEGIN
    FOR k IN 1 .. n LOOP
      at := k;
      IF start_many.inputs[k] IS NULL THEN
        RAISE EXCEPTION 'input is NULL (a run''s input is a JSON value; JSON null is ''null''::jsonb)'
          USING ERRCODE = 'null_value_not_allowed';
      END IF;
      RETURN QUERY SELECT * FROM pgflow.start_flow(start_many.flow_slug, start_many.inputs[k], start_many.run_ids[k]);
    END LOOP;
  EXCEPTION WHEN OTHERS THEN
    -- Same SQLSTATE and constraint, with the position: which of the N inputs was refused.
    DECLARE
      state text;
      message text;
      constraint_name text;
    BEGIN
      GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, constraint_name = CONSTRAINT_NAME;
      RAISE EXCEPTION 'start_many: input % of %: %', at, n, message USING ERRCODE = state, CONSTRAINT = constraint_name;
    END;
  END;
END;
$$;
