-- pgflow_cpp.add_schedule(name, flow_slug, cron, input, time_zone, enabled, catch_up) -> schedules
-- pgflow_cpp.add_prune_schedule(name, retention, cron, time_zone, enabled) -> schedules
-- Add a schedule that starts flow_slug with input at every tick of cron (pgflow_cpp.cron_next_run
-- says what cron accepts), or one that calls pgflow.prune_data_older_than(retention). The first
-- tick is the first one after now. A name is any non-empty text. Errors (invalid_parameter_value
-- unless said): a NULL name (null_value_not_allowed) or an empty one, a bad cron expression or
-- time zone, an unregistered flow (foreign_key_violation), catch_up other than 'one' or 'all', a
-- NULL input (null_value_not_allowed), an input that is not an array for a flow with root map
-- steps (start_flow would refuse it at every tick), a retention that is not a positive interval,
-- a name already taken (unique_violation, schedules_name_key).
--
-- pgflow_cpp._check_schedule_name(caller, name) raises their named errors for a NULL or empty
-- name, rather than the table's not-null and schedules_name_check violations (internal);
-- pgflow_cpp._check_schedule_input(caller, flow_slug, input) those for an input (internal).
CREATE OR REPLACE FUNCTION pgflow_cpp._check_schedule_name(caller text, name text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF _check_schedule_name.name IS NULL THEN
    RAISE EXCEPTION '%: name is NULL (a schedule name is a non-empty text)', caller USING ERRCODE = 'null_value_not_allowed';
  ELSIF _check_schedule_name.name = '' THEN
    RAISE EXCEPTION '%: name is empty (a schedule name is a non-empty text)', caller USING ERRCODE = 'invalid_parameter_value';
  END IF;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp._check_schedule_input(caller text, flow_slug text, input jsonb)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
  IF _check_schedule_input.input IS NULL THEN
    RAISE EXCEPTION '%: input is NULL (a run''s input is a JSON value; JSON null is ''null''::jsonb)', caller
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF jsonb_typeof(_check_schedule_input.input) <> 'array'
     AND EXISTS (SELECT 1 FROM pgflow.steps AS s
                 WHERE s.flow_slug = _check_schedule_input.flow_slug AND s.step_type = 'map' AND s.deps_count = 0) THEN
    RAISE EXCEPTION '%: flow "%" has root map steps, so its input must be an array (got %)', caller,
      _check_schedule_input.flow_slug, jsonb_typeof(_check_schedule_input.input)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.add_schedule(
  name text, flow_slug text, cron text, input jsonb DEFAULT '{}', time_zone text DEFAULT 'UTC',
  enabled boolean DEFAULT true, catch_up text DEFAULT 'one')
RETURNS pgflow_cpp.schedules
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  added pgflow_cpp.schedules;
BEGIN
  PERFORM pgflow_cpp._check_schedule_name('add_schedule', add_schedule.name);
  IF NOT EXISTS (SELECT 1 FROM pgflow.flows AS f WHERE f.flow_slug = add_schedule.flow_slug) THEN
    RAISE EXCEPTION 'add_schedule: flow "%" is not registered (register it, e.g. by starting its worker, first)', add_schedule.flow_slug
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  PERFORM pgflow_cpp._check_schedule_input('add_schedule', add_schedule.flow_slug, add_schedule.input);
  INSERT INTO pgflow_cpp.schedules AS s (name, kind, flow_slug, input, cron, time_zone, enabled, catch_up, next_run_at)
  VALUES (add_schedule.name, 'flow', add_schedule.flow_slug, add_schedule.input, add_schedule.cron,
          add_schedule.time_zone, coalesce(add_schedule.enabled, true),
          pgflow_cpp.schedule_catch_up_checked(add_schedule.catch_up),
          pgflow_cpp.cron_next_run(add_schedule.cron, add_schedule.time_zone, clock_timestamp()))
  RETURNING * INTO added;
  RETURN added;
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'add_schedule: a schedule named "%" exists already (update_schedule changes it, remove_schedule removes it)',
    add_schedule.name USING ERRCODE = 'unique_violation', CONSTRAINT = 'schedules_name_key';
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.add_prune_schedule(
  name text, retention interval, cron text, time_zone text DEFAULT 'UTC', enabled boolean DEFAULT true)
RETURNS pgflow_cpp.schedules
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  added pgflow_cpp.schedules;
BEGIN
  PERFORM pgflow_cpp._check_schedule_name('add_prune_schedule', add_prune_schedule.name);
  -- isfinite: PostgreSQL 17's interval 'infinity' would prune nothing, ever.
  IF add_prune_schedule.retention IS NULL OR add_prune_schedule.retention <= interval '0'
     OR NOT isfinite(add_prune_schedule.retention) THEN
    RAISE EXCEPTION 'add_prune_schedule: retention must be a positive interval, not %', coalesce(add_prune_schedule.retention::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO pgflow_cpp.schedules AS s (name, kind, retention, cron, time_zone, enabled, catch_up, next_run_at)
  VALUES (add_prune_schedule.name, 'prune', add_prune_schedule.retention, add_prune_schedule.cron,
          add_prune_schedule.time_zone, coalesce(add_prune_schedule.enabled, true), 'one',
          pgflow_cpp.cron_next_run(add_prune_schedule.cron, add_prune_schedule.time_zone, clock_timestamp()))
  RETURNING * INTO added;
  RETURN added;
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'add_prune_schedule: a schedule named "%" exists already (remove_schedule removes it)',
    add_prune_schedule.name USING ERRCODE = 'unique_violation', CONSTRAINT = 'schedules_name_key';
END;
$$;
