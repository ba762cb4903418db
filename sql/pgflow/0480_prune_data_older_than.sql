-- pgflow.prune_data_older_than(retention_interval) -> void
-- Retention, with the signature and order of pgflow's documented maintenance function (upstream
-- ships it as a snippet to install by hand; here it is part of the install). With
-- cutoff = now() - retention_interval:
--   1. workers whose last heartbeat is older than the cutoff are deleted (their tasks keep
--      last_worker_id NULL: step_tasks_last_worker_id_fkey is ON DELETE SET NULL);
--   2. runs that completed or failed before the cutoff lose their tasks' messages still in the
--      active queue (pgmq.delete, per flow), then
--   3. all of their step_tasks, then all of their step_states (any status), then the runs
--      themselves (pgflow_cpp.run_control rows go with them: ON DELETE CASCADE, so an idempotency
--      key of a pruned run may start a new run);
--   4. every flow's archive table loses the rows archived before the cutoff.
-- Never touches a run still 'started', nor flow or step definitions. Keep the retention longer
-- than the longest start_delay and than the time callers still wait for results. Errors: a NULL
-- retention_interval (null_value_not_allowed); one that is not positive (invalid_parameter_value:
-- 0 or a negative interval would delete every finished run, up to the last one).
CREATE OR REPLACE FUNCTION pgflow.prune_data_older_than(retention_interval interval)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
-- Reads most of the runtime tables by age: sequential scans stay allowed even when called from
-- run_due_schedules, whose enable_seqscan = off a callee would otherwise inherit.
SET enable_seqscan = on
AS $$
DECLARE
  cutoff timestamptz;
  old_runs uuid[];
  q record;
BEGIN
  IF retention_interval IS NULL THEN
    RAISE EXCEPTION 'prune_data_older_than: retention_interval must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- As pgflow_cpp.add_prune_schedule; isfinite: PostgreSQL 17's interval 'infinity' prunes nothing.
  IF retention_interval <= interval '0' OR NOT isfinite(retention_interval) THEN
    RAISE EXCEPTION 'prune_data_older_than: retention_interval must be a positive interval, not %', retention_interval
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  cutoff := now() - retention_interval;

  DELETE FROM pgflow.workers AS w WHERE w.last_heartbeat_at < cutoff;

  SELECT array_agg(r.run_id) INTO old_runs
  FROM pgflow.runs AS r
  WHERE r.status IN ('completed', 'failed') AND (r.completed_at < cutoff OR r.failed_at < cutoff);
  IF old_runs IS NOT NULL THEN
    FOR q IN
      SELECT t.flow_slug, array_agg(t.message_id) AS messages
      FROM pgflow.step_tasks AS t
      WHERE t.run_id = ANY (old_runs) AND t.message_id IS NOT NULL
      GROUP BY t.flow_slug
    LOOP
      PERFORM pgmq.delete(q.flow_slug, q.messages);
    END LOOP;
    DELETE FROM pgflow.step_tasks AS t WHERE t.run_id = ANY (old_runs);
    DELETE FROM pgflow.step_states AS s WHERE s.run_id = ANY (old_runs);
    DELETE FROM pgflow.runs AS r WHERE r.run_id = ANY (old_runs);
  END IF;

  FOR q IN SELECT f.flow_slug, pgmq.format_table_name(f.flow_slug, 'a') AS archive FROM pgflow.flows AS f LOOP
    IF to_regclass(format('pgmq.%I', q.archive)) IS NOT NULL THEN
      EXECUTE format('DELETE FROM pgmq.%I WHERE archived_at < $1', q.archive) USING cutoff;
    END IF;
  END LOOP;
END;
$$;
