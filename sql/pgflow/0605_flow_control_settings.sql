-- pgflow_cpp.set_step_limits(flow_slug, step_slug, max_concurrency, concurrency_key, max_per_key,
--   rate_limit) -> void
-- (Addition.) Replaces the step's limits (all NULL removes them): at most max_concurrency tasks of
-- the step started at once across all workers; at most max_per_key started tasks per value of the
-- run input at concurrency_key (input #>> concurrency_key; a run without that path has the key
-- NULL, one value of its own); each start counts against the rate limit named rate_limit (created
-- by set_rate_limit, before or after). Tasks over a limit stay queued and are claimed later.
-- Errors: unknown step; a limit < 1; concurrency_key without max_per_key or the reverse, or with
-- a NULL element; an empty rate_limit name.
CREATE OR REPLACE FUNCTION pgflow_cpp.set_step_limits(flow_slug text, step_slug text,
                                                      max_concurrency integer DEFAULT NULL,
                                                      concurrency_key text[] DEFAULT NULL,
                                                      max_per_key integer DEFAULT NULL,
                                                      rate_limit text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgflow.steps AS s
                 WHERE s.flow_slug = set_step_limits.flow_slug AND s.step_slug = set_step_limits.step_slug) THEN
    RAISE EXCEPTION 'set_step_limits: flow "%" has no step "%"', set_step_limits.flow_slug, set_step_limits.step_slug
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Limits are taken at a claim: a signal or subflow step's tasks are never claimed, so limits on
  -- one would silently do nothing. (A sleep step's tasks are claimed once, to be parked.)
  IF (set_step_limits.max_concurrency IS NOT NULL OR set_step_limits.max_per_key IS NOT NULL
      OR set_step_limits.rate_limit IS NOT NULL)
     AND EXISTS (SELECT 1 FROM pgflow_cpp.step_kinds AS k
                 WHERE k.flow_slug = set_step_limits.flow_slug AND k.step_slug = set_step_limits.step_slug
                   AND k.kind IN ('signal', 'subflow')) THEN
    RAISE EXCEPTION 'set_step_limits: step "%" of flow "%" is a % step: no worker claims its tasks, so no step limit can apply',
      set_step_limits.step_slug, set_step_limits.flow_slug,
      (SELECT k.kind FROM pgflow_cpp.step_kinds AS k
       WHERE k.flow_slug = set_step_limits.flow_slug AND k.step_slug = set_step_limits.step_slug)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Limit the child flow''s runs (set_flow_limits) or the steps that act on the signal instead.';
  END IF;
  IF set_step_limits.max_concurrency < 1 OR set_step_limits.max_per_key < 1 THEN
    RAISE EXCEPTION 'set_step_limits: max_concurrency and max_per_key must be at least 1 (got % and %)',
      set_step_limits.max_concurrency, set_step_limits.max_per_key
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (set_step_limits.concurrency_key IS NULL) <> (set_step_limits.max_per_key IS NULL)
     OR cardinality(set_step_limits.concurrency_key) = 0 THEN
    RAISE EXCEPTION 'set_step_limits: concurrency_key (a non-empty path into the run input) and max_per_key go together'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- A NULL path element would key every run NULL (input #>> path is NULL), silently one key for all.
  IF array_position(set_step_limits.concurrency_key, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'set_step_limits: concurrency_key must not contain NULL (got %)', set_step_limits.concurrency_key
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- set_rate_limit refuses the name '', so a step naming it could never be limited.
  IF set_step_limits.rate_limit = '' THEN
    RAISE EXCEPTION 'set_step_limits: rate_limit must be a non-empty name (one given to set_rate_limit) or NULL'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  IF set_step_limits.max_concurrency IS NULL AND set_step_limits.max_per_key IS NULL
     AND set_step_limits.rate_limit IS NULL THEN
    DELETE FROM pgflow_cpp.step_limits AS l
    WHERE l.flow_slug = set_step_limits.flow_slug AND l.step_slug = set_step_limits.step_slug;
    RETURN;
  END IF;
  INSERT INTO pgflow_cpp.step_limits AS l (flow_slug, step_slug, max_concurrency, concurrency_key, max_per_key, rate_limit)
  VALUES (set_step_limits.flow_slug, set_step_limits.step_slug, set_step_limits.max_concurrency,
          set_step_limits.concurrency_key, set_step_limits.max_per_key, set_step_limits.rate_limit)
  ON CONFLICT ON CONSTRAINT step_limits_pkey DO UPDATE
  SET max_concurrency = excluded.max_concurrency, concurrency_key = excluded.concurrency_key,
      max_per_key = excluded.max_per_key, rate_limit = excluded.rate_limit
  WHERE (l.max_concurrency, l.concurrency_key, l.max_per_key, l.rate_limit)
        IS DISTINCT FROM (excluded.max_concurrency, excluded.concurrency_key, excluded.max_per_key, excluded.rate_limit);
END;
$$;

-- pgflow_cpp.set_flow_limits(flow_slug, max_concurrent_runs, concurrency_key, max_runs_per_key) -> void
-- (Addition.) Replaces the flow's run limits (all NULL removes them): at most max_concurrent_runs
-- runs of the flow in progress at once, at most max_runs_per_key per value of input #>>
-- concurrency_key. A run started over the limits is created (its run_id returned at once, its
-- pgflow.runs status 'started') but waits: no step starts, pgflow_cpp.run_status says 'waiting';
-- waiting runs are admitted when runs finish, highest priority first, then in start order (per
-- key: a run waits only for runs of its key and for the flow-wide limit). Runs in progress when
-- limits are first set are not counted. Raising or removing limits admits waiting runs at once.
-- Errors: unknown flow; a limit < 1; concurrency_key without max_runs_per_key or the reverse, or
-- with a NULL element.
CREATE OR REPLACE FUNCTION pgflow_cpp.set_flow_limits(flow_slug text, max_concurrent_runs integer DEFAULT NULL,
                                                      concurrency_key text[] DEFAULT NULL,
                                                      max_runs_per_key integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgflow.flows AS f WHERE f.flow_slug = set_flow_limits.flow_slug) THEN
    RAISE EXCEPTION 'set_flow_limits: "%" is not a registered flow', set_flow_limits.flow_slug
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF set_flow_limits.max_concurrent_runs < 1 OR set_flow_limits.max_runs_per_key < 1 THEN
    RAISE EXCEPTION 'set_flow_limits: max_concurrent_runs and max_runs_per_key must be at least 1 (got % and %)',
      set_flow_limits.max_concurrent_runs, set_flow_limits.max_runs_per_key
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (set_flow_limits.concurrency_key IS NULL) <> (set_flow_limits.max_runs_per_key IS NULL)
     OR cardinality(set_flow_limits.concurrency_key) = 0 THEN
    RAISE EXCEPTION 'set_flow_limits: concurrency_key (a non-empty path into the run input) and max_runs_per_key go together'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- A NULL path element would key every run NULL (input #>> path is NULL), silently one key for all.
  IF array_position(set_flow_limits.concurrency_key, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'set_flow_limits: concurrency_key must not contain NULL (got %)', set_flow_limits.concurrency_key
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  IF set_flow_limits.max_concurrent_runs IS NULL AND set_flow_limits.max_runs_per_key IS NULL THEN
    DELETE FROM pgflow_cpp.flow_limits AS l WHERE l.flow_slug = set_flow_limits.flow_slug;
  ELSE
    INSERT INTO pgflow_cpp.flow_limits AS l (flow_slug, max_concurrent_runs, concurrency_key, max_runs_per_key)
    VALUES (set_flow_limits.flow_slug, set_flow_limits.max_concurrent_runs, set_flow_limits.concurrency_key,
            set_flow_limits.max_runs_per_key)
    ON CONFLICT ON CONSTRAINT flow_limits_pkey DO UPDATE
    SET max_concurrent_runs = excluded.max_concurrent_runs, concurrency_key = excluded.concurrency_key,
        max_runs_per_key = excluded.max_runs_per_key
    WHERE (l.max_concurrent_runs, l.concurrency_key, l.max_runs_per_key)
          IS DISTINCT FROM (excluded.max_concurrent_runs, excluded.concurrency_key, excluded.max_runs_per_key);
  END IF;
  -- Waiting runs that the new limits let in (all of them when the limits are gone).
  PERFORM pgflow_cpp._admit_runs(set_flow_limits.flow_slug, NULL);
END;
$$;

-- pgflow_cpp.set_rate_limit(name, max_starts, per_seconds) -> void
-- (Addition.) Creates or replaces the named rate limit: at most max_starts task starts in any
-- sliding window of per_seconds seconds, across all workers and every step that names it
-- (set_step_limits' rate_limit). A task over it stays queued and becomes claimable when the
-- oldest start of the window leaves it: delayed, never failed. Errors: NULL or empty name,
-- max_starts < 1, per_seconds not from 0.000001 (a microsecond, the clock's resolution) to
-- 3155760000 (100 years): NaN, infinite, <= 0 or too large a window.
CREATE OR REPLACE FUNCTION pgflow_cpp.set_rate_limit(name text, max_starts integer, per_seconds numeric)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
BEGIN
  IF set_rate_limit.name IS NULL OR set_rate_limit.name = '' THEN
    RAISE EXCEPTION 'set_rate_limit: name must be a non-empty text' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Every claim of a step naming the limit computes clock_timestamp() - per_seconds as a timestamp
  -- (in double precision): NaN (which PostgreSQL sorts above every number, so > 0 let it in),
  -- infinite, tiny (underflows) or huge windows would fail each claim and leave the tasks queued.
  IF set_rate_limit.max_starts IS NULL OR set_rate_limit.max_starts < 1
     OR set_rate_limit.per_seconds IS NULL
     OR NOT (set_rate_limit.per_seconds >= 0.000001 AND set_rate_limit.per_seconds <= 3155760000) THEN
    RAISE EXCEPTION 'set_rate_limit: "%" needs max_starts >= 1 and per_seconds from 0.000001 to 3155760000 (100 years) (got % per % s)',
      set_rate_limit.name, set_rate_limit.max_starts, set_rate_limit.per_seconds
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO pgflow_cpp.rate_limits AS l (name, max_starts, per_seconds)
  VALUES (set_rate_limit.name, set_rate_limit.max_starts, set_rate_limit.per_seconds)
  ON CONFLICT ON CONSTRAINT rate_limits_pkey DO UPDATE
  SET max_starts = excluded.max_starts, per_seconds = excluded.per_seconds
  WHERE (l.max_starts, l.per_seconds) IS DISTINCT FROM (excluded.max_starts, excluded.per_seconds);
END;
$$;

-- pgflow_cpp.start_flow_with_priority(flow_slug, input, priority, run_id = NULL) -> setof pgflow.runs
-- (Addition.) pgflow.start_flow with a priority (runs started otherwise have 0): the run's tasks
-- are read from the queue before those of lower priority (pgflow_cpp.read_and_start_tasks), and a
-- waiting run (set_flow_limits) is admitted before lower ones. Ties go in arrival order. Aging: a
-- queued task gains +1 per 10 s it has waited in the queue (and a waiting run +1 per 10 s since
-- its start), so a low priority is never starved for ever. Errors: those of start_flow; NULL priority.
CREATE OR REPLACE FUNCTION pgflow_cpp.start_flow_with_priority(flow_slug text, input jsonb, priority integer,
                                                               run_id uuid DEFAULT NULL)
RETURNS SETOF pgflow.runs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  id constant uuid := coalesce(start_flow_with_priority.run_id, gen_random_uuid());
BEGIN
  IF start_flow_with_priority.priority IS NULL THEN
    RAISE EXCEPTION 'start_flow_with_priority: priority is NULL (0 is the default priority)'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- Before the run exists, so that its admission (run limits) already sees it.
  IF start_flow_with_priority.priority <> 0 THEN
    INSERT INTO pgflow_cpp.run_priorities (run_id, flow_slug, priority)
    VALUES (id, start_flow_with_priority.flow_slug, start_flow_with_priority.priority)
    ON CONFLICT ON CONSTRAINT run_priorities_pkey DO NOTHING;  -- start_flow then fails on runs_pkey
  END IF;
  RETURN QUERY SELECT * FROM pgflow.start_flow(start_flow_with_priority.flow_slug, start_flow_with_priority.input, id);
END;
$$;
