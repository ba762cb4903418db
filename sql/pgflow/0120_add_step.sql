-- pgflow.add_step(flow_slug, step_slug, deps_slugs = '{}', max_attempts, base_delay, timeout,
--                 start_delay, step_type = 'single', required_input_pattern, forbidden_input_pattern,
--                 when_unmet = 'skip', when_exhausted = 'fail') -> pgflow.steps
-- pgflow 0.14's signature: the four condition parameters come last with upstream's defaults, so
-- every 0.8.1 call (positional or named) means what it meant. They are stored as given; the
-- CHECK constraints are their only validation (upstream's errors, e.g. violates check constraint
-- "when_unmet_is_valid"); a when_unmet without a pattern is stored and inert, as upstream.
-- Appends a step (step_index = previous max + 1) with its dependency edges. Idempotent: an existing
-- step is returned unchanged when deps_slugs names none but its dependencies (pgflow 0.8.1 added
-- new edges without counting them, which failed the step's runs: refused here, 22023).
-- Errors: 'add_step: step "<slug>" lists dependency "<dep>" more than once (deps_slugs: <deps>)'
-- (22023; pgflow 0.8.1 accepted it and the step never started);
-- 'Map step "<slug>" can have at most one dependency, but <n> were provided: <deps>';
-- steps_flow_slug_fkey (unknown flow), deps_flow_slug_dep_slug_fkey (unknown dependency),
-- deps_check (self-dependency), steps_step_slug_check, steps_step_type_check, opt_* CHECKs.
CREATE OR REPLACE FUNCTION pgflow.add_step(
  flow_slug text,
  step_slug text,
  deps_slugs text[] DEFAULT '{}',
  max_attempts integer DEFAULT NULL,
  base_delay integer DEFAULT NULL,
  timeout integer DEFAULT NULL,
  start_delay integer DEFAULT NULL,
  step_type text DEFAULT 'single',
  required_input_pattern jsonb DEFAULT NULL,
  forbidden_input_pattern jsonb DEFAULT NULL,
  when_unmet text DEFAULT 'skip',
  when_exhausted text DEFAULT 'fail'
)
RETURNS pgflow.steps
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  dep_count integer := coalesce(cardinality(add_step.deps_slugs), 0);
  result pgflow.steps;
BEGIN
  -- A dependency listed twice would count twice in deps_count but make one edge: the step would
  -- wait forever for a second completion (pgflow 0.8.1 accepts it; every run then hangs).
  IF dep_count > (SELECT count(DISTINCT d) FROM unnest(add_step.deps_slugs) AS d) THEN
    RAISE EXCEPTION 'add_step: step "%" lists dependency "%" more than once (deps_slugs: %)', add_step.step_slug,
      (SELECT d FROM unnest(add_step.deps_slugs) WITH ORDINALITY AS u(d, k) GROUP BY d HAVING count(*) > 1
       ORDER BY min(k) LIMIT 1),
      array_to_string(add_step.deps_slugs, ', ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF coalesce(add_step.step_type, 'single') = 'map' AND dep_count > 1 THEN
    RAISE EXCEPTION 'Map step "%" can have at most one dependency, but % were provided: %',
      add_step.step_slug, dep_count, array_to_string(add_step.deps_slugs, ', ');
  END IF;

  INSERT INTO pgflow.steps (flow_slug, step_slug, step_type, step_index, deps_count,
                            opt_max_attempts, opt_base_delay, opt_timeout, opt_start_delay,
                            required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted)
  VALUES (
    add_step.flow_slug,
    add_step.step_slug,
    coalesce(add_step.step_type, 'single'),
    (SELECT coalesce(max(s.step_index) + 1, 0) FROM pgflow.steps AS s WHERE s.flow_slug = add_step.flow_slug),
    dep_count,
    add_step.max_attempts,
    add_step.base_delay,
    add_step.timeout,
    add_step.start_delay,
    add_step.required_input_pattern,
    add_step.forbidden_input_pattern,
    add_step.when_unmet,
    add_step.when_exhausted
  )
  ON CONFLICT ON CONSTRAINT steps_pkey DO NOTHING
  RETURNING * INTO result;

  IF result.step_slug IS NULL THEN
    SELECT * INTO result FROM pgflow.steps AS s
    WHERE s.flow_slug = add_step.flow_slug AND s.step_slug = add_step.step_slug;
    -- An existing step keeps its dependencies: pgflow 0.8.1 added the new edges without counting
    -- them in deps_count, and the step's runs then failed when the extra dependency completed
    -- (remaining_deps below zero). Naming the same ones again, or fewer, changes nothing.
    IF EXISTS (SELECT 1 FROM unnest(add_step.deps_slugs) AS d(dep_slug)
               WHERE NOT EXISTS (SELECT 1 FROM pgflow.deps AS e
                                 WHERE e.flow_slug = add_step.flow_slug AND e.step_slug = add_step.step_slug
                                   AND e.dep_slug = d.dep_slug)) THEN
      RAISE EXCEPTION 'add_step: step "%" of flow "%" exists with dependencies [%]; it cannot gain more (got [%]): pgflow flows are immutable, register the changed flow under a new slug',
        add_step.step_slug, add_step.flow_slug,
        (SELECT coalesce(string_agg(e.dep_slug, ', ' ORDER BY e.dep_slug), '') FROM pgflow.deps AS e
         WHERE e.flow_slug = add_step.flow_slug AND e.step_slug = add_step.step_slug),
        array_to_string(add_step.deps_slugs, ', ')
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN result;
  END IF;

  IF dep_count > 0 THEN
    INSERT INTO pgflow.deps (flow_slug, dep_slug, step_slug)
    SELECT add_step.flow_slug, d.dep_slug, add_step.step_slug
    FROM unnest(add_step.deps_slugs) AS d(dep_slug)
    ON CONFLICT ON CONSTRAINT deps_pkey DO NOTHING;
  END IF;

  RETURN result;
END;
$$;
