-- pgflow_cpp.json_matches_shape(value, shape) -> text
-- (Addition.) NULL when value looks like shape, else a message naming the first mismatching path,
-- e.g. '$.approved: expected boolean, got string'. shape is the JSON-Schema-like subset that the
-- C++ side generates from a signal's value type: {"type": object|array|string|number|integer|
-- boolean|null, "properties": {...}, "required": [...], "items": {...}, "nullable": true}; a shape
-- without "type" (or a NULL shape) matches anything; properties not described are allowed.
-- Errors: 22023 for a shape that is not an object or names an unknown type.
CREATE OR REPLACE FUNCTION pgflow_cpp.json_shape_mismatch(value jsonb, shape jsonb, path text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
  expected text;
  actual text := coalesce(jsonb_typeof(json_shape_mismatch.value), 'nothing');
  prop record;
  found text;
BEGIN
  IF json_shape_mismatch.shape IS NULL THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(json_shape_mismatch.shape) <> 'object' THEN
    RAISE EXCEPTION 'value shape at %: expected an object, got %', path, jsonb_typeof(shape)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  expected := shape ->> 'type';
  IF expected IS NULL THEN
    RETURN NULL;
  END IF;
  IF actual = 'null' AND coalesce((shape ->> 'nullable')::boolean, false) THEN
    RETURN NULL;
  END IF;
  IF expected NOT IN ('object', 'array', 'string', 'number', 'integer', 'boolean', 'null') THEN
    RAISE EXCEPTION 'value shape at %: unknown type "%"', path, expected USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT (actual = expected
          OR (expected = 'integer' AND actual = 'number' AND (value #>> '{}')::numeric = trunc((value #>> '{}')::numeric))) THEN
    IF expected = 'integer' AND actual = 'number' THEN
      actual := 'a number with a fraction';
    END IF;
    RETURN format('%s: expected %s, got %s', path, expected, actual);
  END IF;

  IF expected = 'object' THEN
    FOR prop IN SELECT r.name FROM jsonb_array_elements_text(coalesce(shape -> 'required', '[]')) AS r(name) LOOP
      IF NOT (value ? prop.name) THEN
        RETURN format('%s.%s: required, missing', path, prop.name);
      END IF;
    END LOOP;
    FOR prop IN SELECT p.key, p.value FROM jsonb_each(coalesce(shape -> 'properties', '{}')) AS p ORDER BY p.key LOOP
      IF value ? prop.key THEN
        found := pgflow_cpp.json_shape_mismatch(value -> prop.key, prop.value, path || '.' || prop.key);
        IF found IS NOT NULL THEN
          RETURN found;
        END IF;
      END IF;
    END LOOP;
  ELSIF expected = 'array' AND shape ? 'items' THEN
    FOR prop IN SELECT e.value, e.ord - 1 AS idx FROM jsonb_array_elements(value) WITH ORDINALITY AS e(value, ord) LOOP
      found := pgflow_cpp.json_shape_mismatch(prop.value, shape -> 'items', format('%s[%s]', path, prop.idx));
      IF found IS NOT NULL THEN
        RETURN found;
      END IF;
    END LOOP;
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.json_matches_shape(value jsonb, shape jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
  SELECT pgflow_cpp.json_shape_mismatch(json_matches_shape.value, json_matches_shape.shape, '$');
$$;

-- pgflow_cpp.set_step_kind(flow_slug, step_slug, kind, signal_timeout, value_shape, child_flow_slug)
--   -> void
-- (Addition.) Declares a step added by pgflow.add_step as one without a handler: 'signal',
-- 'sleep' or 'subflow' (see 0067_waits.sql). Idempotent; signal_timeout and value_shape may
-- change in place, the kind and the child flow may not (an error naming both).
-- Errors: P0002 (no_data_found) unknown flow or step, or unknown child flow; 22023 bad kind, parameters that do
-- not belong to the kind, a non-positive timeout, a shape that is not an object, a subflow of its
-- own flow (directly or through other subflows), or a step already declared with another kind or
-- child flow.
CREATE OR REPLACE FUNCTION pgflow_cpp.set_step_kind(flow_slug text, step_slug text, kind text,
                                                    signal_timeout integer DEFAULT NULL,
                                                    value_shape jsonb DEFAULT NULL,
                                                    child_flow_slug text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  existing pgflow_cpp.step_kinds;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgflow.steps AS s
                 WHERE s.flow_slug = set_step_kind.flow_slug AND s.step_slug = set_step_kind.step_slug) THEN
    RAISE EXCEPTION 'Flow "%" has no step "%" (add it with pgflow.add_step first)', flow_slug, step_slug
      USING ERRCODE = 'no_data_found';
  END IF;
  IF kind IS NULL OR kind NOT IN ('signal', 'sleep', 'subflow') THEN
    RAISE EXCEPTION 'Step "%": kind must be signal, sleep or subflow, not %', step_slug, coalesce('"' || kind || '"', 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF signal_timeout IS NOT NULL AND (kind <> 'signal' OR signal_timeout <= 0) THEN
    RAISE EXCEPTION 'Step "%": signal_timeout must be a positive number of seconds, for a signal step only', step_slug
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF value_shape IS NOT NULL AND (kind <> 'signal' OR jsonb_typeof(value_shape) <> 'object') THEN
    RAISE EXCEPTION 'Step "%": value_shape must be a JSON object, for a signal step only', step_slug
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (kind = 'subflow') <> (child_flow_slug IS NOT NULL) THEN
    RAISE EXCEPTION 'Step "%": child_flow_slug is required for a subflow step and only for one', step_slug
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF child_flow_slug = flow_slug THEN
    RAISE EXCEPTION 'Step "%" of flow "%" cannot run its own flow as a subflow', step_slug, flow_slug
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF child_flow_slug IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgflow.flows AS f WHERE f.flow_slug = set_step_kind.child_flow_slug) THEN
    RAISE EXCEPTION 'Step "%" of flow "%": child flow "%" is not registered (register it before its parent)',
      step_slug, flow_slug, child_flow_slug USING ERRCODE = 'no_data_found';
  END IF;
  -- A child flow that runs this flow, however deep, would start runs without end.
  IF child_flow_slug IS NOT NULL AND EXISTS (
       WITH RECURSIVE reached(flow) AS (
         SELECT set_step_kind.child_flow_slug
         UNION
         SELECT k.child_flow_slug FROM pgflow_cpp.step_kinds AS k JOIN reached ON k.flow_slug = reached.flow
         WHERE k.child_flow_slug IS NOT NULL)
       SELECT 1 FROM reached WHERE reached.flow = set_step_kind.flow_slug) THEN
    RAISE EXCEPTION 'Step "%" of flow "%": child flow "%" runs flow "%" itself (a cycle of subflows)',
      step_slug, flow_slug, child_flow_slug, flow_slug USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pgflow_cpp.json_matches_shape('null', value_shape);  -- a bad shape fails now, not at the signal

  SELECT * INTO existing FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = set_step_kind.flow_slug AND k.step_slug = set_step_kind.step_slug
  FOR UPDATE;
  IF FOUND AND (existing.kind <> kind OR existing.child_flow_slug IS DISTINCT FROM child_flow_slug) THEN
    RAISE EXCEPTION 'Step "%" of flow "%" is registered as % but is now declared as %', step_slug, flow_slug,
      existing.kind || coalesce(' of flow "' || existing.child_flow_slug || '"', ''),
      kind || coalesce(' of flow "' || child_flow_slug || '"', '')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  INSERT INTO pgflow_cpp.step_kinds AS k (flow_slug, step_slug, kind, signal_timeout, value_shape, child_flow_slug)
  VALUES (set_step_kind.flow_slug, set_step_kind.step_slug, set_step_kind.kind, set_step_kind.signal_timeout,
          set_step_kind.value_shape, set_step_kind.child_flow_slug)
  ON CONFLICT ON CONSTRAINT step_kinds_pkey DO UPDATE
  SET signal_timeout = excluded.signal_timeout, value_shape = excluded.value_shape;
END;
$$;
