-- pgflow_cpp.update_schedule(name, cron, input, time_zone, catch_up, flow_slug) -> schedules
-- Changes what is given (a NULL argument keeps the current value). A new cron or time zone
-- computes next_run_at afresh from now. Same errors as add_schedule; no such schedule:
-- no_data_found. Prune schedules change cron and time zone only.
CREATE OR REPLACE FUNCTION pgflow_cpp.update_schedule(
  name text, cron text DEFAULT NULL, input jsonb DEFAULT NULL, time_zone text DEFAULT NULL,
  catch_up text DEFAULT NULL, flow_slug text DEFAULT NULL)
RETURNS pgflow_cpp.schedules
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  old pgflow_cpp.schedules;
  changed pgflow_cpp.schedules;
BEGIN
  SELECT * INTO old FROM pgflow_cpp.schedules AS s WHERE s.name = update_schedule.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'update_schedule: no schedule named "%"', update_schedule.name USING ERRCODE = 'no_data_found';
  END IF;
  IF update_schedule.flow_slug IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM pgflow.flows AS f WHERE f.flow_slug = update_schedule.flow_slug) THEN
    RAISE EXCEPTION 'update_schedule: flow "%" is not registered', update_schedule.flow_slug
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF old.kind = 'prune' AND (update_schedule.flow_slug IS NOT NULL OR update_schedule.input IS NOT NULL) THEN
    RAISE EXCEPTION 'update_schedule: "%" is a prune schedule: it has no flow or input', update_schedule.name
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF old.kind = 'flow' AND (update_schedule.flow_slug IS NOT NULL OR update_schedule.input IS NOT NULL) THEN
    PERFORM pgflow_cpp._check_schedule_input('update_schedule', coalesce(update_schedule.flow_slug, old.flow_slug),
                                             coalesce(update_schedule.input, old.input));
  END IF;
  UPDATE pgflow_cpp.schedules AS s
  SET cron = coalesce(update_schedule.cron, s.cron),
      time_zone = coalesce(update_schedule.time_zone, s.time_zone),
      input = coalesce(update_schedule.input, s.input),
      flow_slug = coalesce(update_schedule.flow_slug, s.flow_slug),
      catch_up = CASE WHEN update_schedule.catch_up IS NULL THEN s.catch_up
                      ELSE pgflow_cpp.schedule_catch_up_checked(update_schedule.catch_up) END,
      next_run_at = CASE WHEN update_schedule.cron IS NULL AND update_schedule.time_zone IS NULL THEN s.next_run_at
                         ELSE pgflow_cpp.cron_next_run(coalesce(update_schedule.cron, s.cron),
                                                       coalesce(update_schedule.time_zone, s.time_zone),
                                                       clock_timestamp()) END,
      updated_at = clock_timestamp()
  WHERE s.schedule_id = old.schedule_id
  RETURNING * INTO changed;
  RETURN changed;
END;
$$;
