-- pgflow_cpp.set_schedule_enabled(name, enabled) -> schedules
-- Pauses or resumes a schedule. Resuming starts from the first tick after now: the ticks missed
-- while it was disabled are not caught up. No such schedule: no_data_found.
CREATE OR REPLACE FUNCTION pgflow_cpp.set_schedule_enabled(name text, enabled boolean)
RETURNS pgflow_cpp.schedules
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  changed pgflow_cpp.schedules;
BEGIN
  IF set_schedule_enabled.enabled IS NULL THEN
    RAISE EXCEPTION 'set_schedule_enabled: enabled must be true or false, not NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  UPDATE pgflow_cpp.schedules AS s
  SET next_run_at = CASE WHEN set_schedule_enabled.enabled AND NOT s.enabled
                         THEN pgflow_cpp.cron_next_run(s.cron, s.time_zone, clock_timestamp())
                         ELSE s.next_run_at END,
      enabled = set_schedule_enabled.enabled,
      updated_at = clock_timestamp()
  WHERE s.name = set_schedule_enabled.name
  RETURNING * INTO changed;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'set_schedule_enabled: no schedule named "%"', set_schedule_enabled.name USING ERRCODE = 'no_data_found';
  END IF;
  RETURN changed;
END;
$$;
