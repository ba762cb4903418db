-- pgflow_cpp.json_matches_shape(value, shape) -> text
-- (Addition.) NULL when value looks like shape, else a message naming the first mismatching path,
-- e.g. '$.approved: expected boolean, got string'. shape is the JSON-Schema-like subset that the
-- C++ side generates from a signal's value type: {"type": object|array|string|number|integer|
-- boolean|null, "properties": {name: shape, ...}, "required": [name, ...], "items": shape,
-- "nullable": true|false}; a shape without "type" (or a NULL shape) matches anything; members of
-- the value that "properties" does not describe are allowed, and so are other members of a shape
-- (ignored: "description", say).
-- Errors: 22023 for a malformed shape, naming its path ('value shape at $.x: unknown type "bogus"'):
-- a shape that is not an object, a "type" that is not one of the names above, "properties" not an
-- object of shapes, "required" not an array of strings, "items" not a shape, "nullable" not a
-- boolean. The check is lazy: a part of the shape is checked when the match reaches it, whatever
-- the value there, and a part it does not reach is not looked at (set_step_kind checks a signal's
-- whole shape when it stores it). The path is the value's, where the part was reached
-- ('$.xs[0].n'); a part that every element of an array must fit is named path[*] when it is not
-- reached through an element ('value shape at $[*]: expected an object, got string').
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
  mismatch text;
BEGIN
  IF json_shape_mismatch.shape IS NULL THEN
    RETURN NULL;
  END IF;
  -- The shape's own members first, whatever the value: a malformed shape is the shape's fault,
  -- never a mismatch of the value (nor a raw error of a jsonb function further down).
  IF jsonb_typeof(json_shape_mismatch.shape) <> 'object' THEN
    RAISE EXCEPTION 'value shape at %: expected an object, got %', path, jsonb_typeof(shape)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF shape ? 'type' AND (jsonb_typeof(shape -> 'type') <> 'string'
                         OR shape ->> 'type' NOT IN ('object', 'array', 'string', 'number', 'integer', 'boolean', 'null')) THEN
    -- The JSON text: "bogus" (quoted) for a string, 5 or null otherwise.
    RAISE EXCEPTION 'value shape at %: unknown type %', path, shape -> 'type' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF shape ? 'properties' THEN
    IF jsonb_typeof(shape -> 'properties') <> 'object' THEN
      RAISE EXCEPTION 'value shape at %: "properties" must be an object (property name: shape), got %',
        path, jsonb_typeof(shape -> 'properties') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT p.key, jsonb_typeof(p.value) AS type INTO prop
    FROM jsonb_each(shape -> 'properties') AS p WHERE jsonb_typeof(p.value) <> 'object' ORDER BY p.key LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'value shape at %.%: expected an object, got %', path, prop.key, prop.type
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;
  IF shape ? 'required' THEN
    IF jsonb_typeof(shape -> 'required') <> 'array' THEN
      mismatch := jsonb_typeof(shape -> 'required');
    ELSE
      SELECT 'an array holding a ' || jsonb_typeof(r.name) INTO mismatch
      FROM jsonb_array_elements(shape -> 'required') WITH ORDINALITY AS r(name, ord)
      WHERE jsonb_typeof(r.name) <> 'string' ORDER BY r.ord LIMIT 1;
    END IF;
    IF mismatch IS NOT NULL THEN
      RAISE EXCEPTION 'value shape at %: "required" must be an array of property names (strings), got %', path, mismatch
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;
  IF shape ? 'items' AND jsonb_typeof(shape -> 'items') <> 'object' THEN
    RAISE EXCEPTION 'value shape at %[*]: expected an object, got %', path, jsonb_typeof(shape -> 'items')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF shape ? 'nullable' AND jsonb_typeof(shape -> 'nullable') <> 'boolean' THEN
    RAISE EXCEPTION 'value shape at %: "nullable" must be true or false, got %', path, jsonb_typeof(shape -> 'nullable')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  expected := shape ->> 'type';
  IF expected IS NULL THEN
    RETURN NULL;
  END IF;
  IF actual = 'null' AND shape -> 'nullable' = 'true'::jsonb THEN
    RETURN NULL;
  END IF;
  IF NOT (actual = expected
          OR (expected = 'integer' AND actual = 'number' AND (value #>> '{}')::numeric = trunc((value #>> '{}')::numeric))) THEN
    IF expected = 'integer' AND actual = 'number' THEN
      actual := 'a number with a fraction';
    END IF;
    RETURN format('%s: expected %s, got %s', path, expected, actual);
  END IF;

  IF expected = 'object' THEN
    FOR prop IN SELECT r.name FROM jsonb_array_elements_text(coalesce(shape -> 'required', '[]')) WITH ORDINALITY AS r(name, ord)
                ORDER BY r.ord LOOP
      IF NOT (value ? prop.name) THEN
        RETURN format('%s.%s: required, missing', path, prop.name);
      END IF;
    END LOOP;
    FOR prop IN SELECT p.key, p.value FROM jsonb_each(coalesce(shape -> 'properties', '{}')) AS p ORDER BY p.key LOOP
      IF value ? prop.key THEN
        mismatch := pgflow_cpp.json_shape_mismatch(value -> prop.key, prop.value, path || '.' || prop.key);
        IF mismatch IS NOT NULL THEN
          RETURN mismatch;
        END IF;
      END IF;
    END LOOP;
  ELSIF expected = 'array' AND shape ? 'items' THEN
    FOR prop IN SELECT e.value, e.ord - 1 AS idx FROM jsonb_array_elements(value) WITH ORDINALITY AS e(value, ord) LOOP
      mismatch := pgflow_cpp.json_shape_mismatch(prop.value, shape -> 'items', format('%s[%s]', path, prop.idx));
      IF mismatch IS NOT NULL THEN
        RETURN mismatch;
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
-- change in place, the kind and the child flow may not (an error naming both). A step without a
-- row here is a handler step: it may be declared only while its flow has no runs (registration:
-- create_flow, add_step, set_step_kind), since runs started with it treat it as a handler step
-- (messages, claims). A signal or subflow step may be a map (one wait per element); a sleep step
-- may not (the C++ side declares no sleep map). value_shape is checked whole here (every part,
-- as json_matches_shape describes it), so a signal is never blamed for its step's shape.
-- Errors: P0002 (no_data_found) unknown flow or step, or unknown child flow; 22023 bad kind, parameters that do
-- not belong to the kind, a non-positive timeout, a malformed shape (json_matches_shape's message,
-- naming the path in the shape), a sleep step that is a map, a signal or subflow step that has
-- step limits (set_step_limits: no claim would apply them), a subflow of its own flow (directly or
-- through other subflows), a step already declared with another kind or child flow, or a handler
-- step of a flow that has runs (its kind can no longer change).
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
  registered_type text;
  node record;
BEGIN
  SELECT s.step_type INTO registered_type FROM pgflow.steps AS s
  WHERE s.flow_slug = set_step_kind.flow_slug AND s.step_slug = set_step_kind.step_slug;
  IF NOT FOUND THEN
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
  IF kind = 'sleep' AND registered_type = 'map' THEN
    RAISE EXCEPTION 'Step "%" of flow "%" is a map step, but a sleep step is a single step (signal and subflow steps may be maps)',
      step_slug, flow_slug USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- set_step_limits refuses limits on a signal or subflow step; the other order is refused here.
  IF kind IN ('signal', 'subflow') AND EXISTS (SELECT 1 FROM pgflow_cpp.step_limits AS l
                                               WHERE l.flow_slug = set_step_kind.flow_slug
                                                 AND l.step_slug = set_step_kind.step_slug) THEN
    RAISE EXCEPTION 'Step "%" of flow "%" has step limits, but a % step''s tasks are never claimed by a worker, so no step limit can apply',
      step_slug, flow_slug, kind
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Remove them first: pgflow_cpp.set_step_limits(flow_slug, step_slug) with no limits.';
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
  -- Every part of the shape, parents before their parts: a bad shape fails now, not at a signal.
  -- json_shape_mismatch with the value null checks one part (its own members) and goes no deeper.
  FOR node IN
    WITH RECURSIVE part(shape, path) AS (
      SELECT set_step_kind.value_shape, '$'::text WHERE set_step_kind.value_shape IS NOT NULL
      UNION ALL
      SELECT sub.shape, sub.path
      FROM part
      CROSS JOIN LATERAL (
        SELECT p.value, part.path || '.' || p.key
        FROM jsonb_each(CASE WHEN jsonb_typeof(part.shape -> 'properties') = 'object'
                             THEN part.shape -> 'properties' ELSE '{}'::jsonb END) AS p
        UNION ALL
        SELECT part.shape -> 'items', part.path || '[*]' WHERE part.shape -> 'items' IS NOT NULL
      ) AS sub(shape, path)
    )
    SELECT part.shape, part.path FROM part ORDER BY part.path COLLATE "C"
  LOOP
    PERFORM pgflow_cpp.json_shape_mismatch('null', node.shape, node.path);
  END LOOP;

  SELECT * INTO existing FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = set_step_kind.flow_slug AND k.step_slug = set_step_kind.step_slug
  FOR UPDATE;
  IF FOUND AND (existing.kind <> kind OR existing.child_flow_slug IS DISTINCT FROM child_flow_slug) THEN
    RAISE EXCEPTION 'Step "%" of flow "%" is registered as % but is now declared as %', step_slug, flow_slug,
      existing.kind || coalesce(' of flow "' || existing.child_flow_slug || '"', ''),
      kind || coalesce(' of flow "' || child_flow_slug || '"', '')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT FOUND THEN
    -- A handler step until now. Runs of the flow treat it as one (its tasks get messages and are
    -- claimed), so once a run exists its kind is fixed. The flow's row is locked first: a run
    -- starting meanwhile (its runs row references the flow) waits for this transaction, and one
    -- started before is seen by the check below.
    PERFORM 1 FROM pgflow.flows AS f WHERE f.flow_slug = set_step_kind.flow_slug FOR UPDATE;
    IF EXISTS (SELECT 1 FROM pgflow.runs AS r WHERE r.flow_slug = set_step_kind.flow_slug) THEN
      RAISE EXCEPTION 'Step "%" of flow "%" is registered as handler but is now declared as %: the flow already has runs, so the step''s kind cannot change',
        step_slug, flow_slug, kind || coalesce(' of flow "' || child_flow_slug || '"', '')
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'pgflow flows are immutable: register the changed flow under a new slug.';
    END IF;
  END IF;

  INSERT INTO pgflow_cpp.step_kinds AS k (flow_slug, step_slug, kind, signal_timeout, value_shape, child_flow_slug)
  VALUES (set_step_kind.flow_slug, set_step_kind.step_slug, set_step_kind.kind, set_step_kind.signal_timeout,
          set_step_kind.value_shape, set_step_kind.child_flow_slug)
  ON CONFLICT ON CONSTRAINT step_kinds_pkey DO UPDATE
  SET signal_timeout = excluded.signal_timeout, value_shape = excluded.value_shape;
END;
$$;
