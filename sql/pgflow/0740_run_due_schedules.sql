-- pgflow_cpp.run_due_schedules(max_runs) -> table(schedule_name, scheduled_at, run_id, error)
-- Starts every due tick of every enabled schedule exactly once and advances next_run_at; returns
-- the ticks it started. Due rows are locked FOR UPDATE SKIP LOCKED, so concurrent callers share
-- the work instead of waiting, and each tick is recorded in pgflow_cpp.schedule_runs, whose key
-- (schedule, scheduled_at) makes a second start of one tick impossible whatever the race.
-- catch_up 'one': one run for all missed ticks (recorded at the first), next_run_at the first
-- tick after now; 'all': one run per missed tick, oldest first, at most max_runs per call (the
-- next call goes on). A tick whose start fails (the flow was removed, ...) is recorded with its
-- error in schedule_runs.error and schedules.last_error, and the schedule moves on.
CREATE OR REPLACE FUNCTION pgflow_cpp.run_due_schedules(max_runs integer DEFAULT 60)
RETURNS TABLE (schedule_name text, scheduled_at timestamptz, run_id uuid, error text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  now_at constant timestamptz := clock_timestamp();
  s pgflow_cpp.schedules;
  tick timestamptz;
  next_tick timestamptz;
  started integer := 0;
  inserted boolean;
BEGIN
  IF max_runs IS NULL OR max_runs < 1 THEN
    RAISE EXCEPTION 'run_due_schedules: max_runs must be at least 1, not %', coalesce(max_runs::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR s IN
    SELECT * FROM pgflow_cpp.schedules AS d
    WHERE d.enabled AND d.next_run_at <= now_at
    ORDER BY d.next_run_at
    LIMIT max_runs
    FOR UPDATE SKIP LOCKED
  LOOP
    EXIT WHEN started >= max_runs;
    tick := s.next_run_at;
    LOOP
      INSERT INTO pgflow_cpp.schedule_runs AS r (schedule_id, schedule_name, scheduled_at)
      VALUES (s.schedule_id, s.name, tick)
      ON CONFLICT ON CONSTRAINT schedule_runs_pkey DO NOTHING
      RETURNING true INTO inserted;
      IF inserted THEN
        run_id := NULL;
        error := NULL;
        -- One subtransaction per tick: a tick that cannot start must not undo the others.
        BEGIN
          IF s.kind = 'flow' THEN
            SELECT r.run_id INTO run_id FROM pgflow.start_flow(s.flow_slug, s.input) AS r;
          ELSE
            PERFORM pgflow.prune_data_older_than(s.retention);
            DELETE FROM pgflow_cpp.schedule_runs AS r
            WHERE r.schedule_id = s.schedule_id AND r.scheduled_at < now_at - s.retention;
          END IF;
        EXCEPTION
          -- Transient (deadlock, serialization failure, lock timeout): the whole call is retried
          -- later and the tick with it, rather than recorded as lost.
          WHEN transaction_rollback OR lock_not_available THEN
            RAISE;
          WHEN OTHERS THEN
            error := SQLERRM;
        END;
        UPDATE pgflow_cpp.schedule_runs AS r SET run_id = run_due_schedules.run_id, error = run_due_schedules.error
        WHERE r.schedule_id = s.schedule_id AND r.scheduled_at = tick;
        UPDATE pgflow_cpp.schedules AS u
        SET last_run_at = tick, last_run_id = run_due_schedules.run_id, last_error = run_due_schedules.error
        WHERE u.schedule_id = s.schedule_id;
        schedule_name := s.name;
        scheduled_at := tick;
        started := started + 1;
        RETURN NEXT;
      END IF;
      next_tick := pgflow_cpp.cron_next_run(s.cron, s.time_zone, CASE s.catch_up WHEN 'all' THEN tick ELSE now_at END);
      EXIT WHEN next_tick > now_at OR started >= max_runs;
      tick := next_tick;
    END LOOP;
    UPDATE pgflow_cpp.schedules AS u SET next_run_at = next_tick WHERE u.schedule_id = s.schedule_id;
  END LOOP;
END;
$$;
