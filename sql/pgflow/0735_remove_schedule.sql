-- pgflow_cpp.remove_schedule(name) -> boolean
-- Removes the schedule and its tick history (the runs it started stay); false when there is no
-- such schedule. A tick in progress in another session finishes first (the row lock).
CREATE OR REPLACE FUNCTION pgflow_cpp.remove_schedule(name text)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
  WITH removed AS (DELETE FROM pgflow_cpp.schedules AS s WHERE s.name = remove_schedule.name RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM removed);
$$;
