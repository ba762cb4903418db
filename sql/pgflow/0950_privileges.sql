-- Who may do what in schemas pgflow and pgflow_cpp, in one place (run after every function is
-- created; CREATE OR REPLACE FUNCTION keeps the grants and revocations of an earlier install).
--   * The functions that change state run as their owner, the role that installed the schema:
--     each is declared SECURITY DEFINER where it is created (so a re-install never runs them as
--     the caller, even for a moment), and checked below to be so and to pin search_path. Roles therefore need no write
--     privilege on any table: what a role may change is exactly what it may EXECUTE. Run as the
--     owner, create_flow also makes the owner own each flow's queue tables, whoever calls it.
--   * EXECUTE is revoked from PUBLIC on every function of both schemas but the read-only ones
--     listed below; the README's "Least-privilege roles" grants it per role. Functions added later
--     are thereby owner-only until granted.
--   * Nobody but the owner reads or writes pgflow_cpp.deferred_notifications (0065).
-- Idempotent: re-running revokes the same privileges; grants made to roles survive a re-install.
DO $privileges$
DECLARE
  -- pgflow 0.8.1 makes start_flow_with_states and get_run_with_states SECURITY DEFINER already.
  run_as_owner constant text[] := ARRAY[
    'pgflow.create_flow(text,integer,integer,integer)',
    'pgflow.add_step(text,text,text[],integer,integer,integer,integer,text,jsonb,jsonb,text,text)',
    'pgflow.start_flow(text,jsonb,uuid)',
    'pgflow.start_flow_with_states(text,jsonb,uuid)',
    'pgflow.get_run_with_states(uuid)',
    'pgflow.start_tasks(text,bigint[],uuid)',
    'pgflow.complete_task(uuid,text,integer,jsonb)',
    'pgflow.complete_tasks(uuid[],text[],integer[],jsonb[])',
    'pgflow.fail_task(uuid,text,integer,text)',
    'pgflow_cpp.fail_task_attempt(uuid,text,integer,integer,uuid,text)',
    'pgflow_cpp.read_and_start_tasks(text,integer,integer,uuid)',
    'pgflow_cpp.cancel_run(uuid)',
    'pgflow_cpp.retry_run(uuid)',
    'pgflow_cpp.resume_run(uuid)',
    'pgflow_cpp.fail_task_permanently(uuid,text,integer,text)',
    'pgflow_cpp.start_flow_idempotent(text,jsonb,text,uuid)',
    'pgflow_cpp.run_status(uuid)',
    'pgflow.prune_data_older_than(interval)',
    'pgflow_cpp.start_many(text,jsonb[],uuid[])',
    'pgflow_cpp.set_step_kind(text,text,text,integer,jsonb,text)',
    'pgflow_cpp.signal(uuid,text,jsonb,integer)',
    'pgflow_cpp.sleep_task(uuid,text,integer,timestamptz)',
    'pgflow_cpp.wake_due_waits(integer)',
    'pgflow_cpp.next_wake_at()',
    'pgflow_cpp.run_waits(uuid)',
    'pgflow_cpp.set_step_limits(text,text,integer,text[],integer,text)',
    'pgflow_cpp.set_flow_limits(text,integer,text[],integer)',
    'pgflow_cpp.set_rate_limit(text,integer,numeric)',
    'pgflow_cpp.start_flow_with_priority(text,jsonb,integer,uuid)',
    'pgflow_cpp.notify(text,text)',
    'pgflow_cpp.publish_deferred_notifications(integer)',
    'pgflow_cpp.add_schedule(text,text,text,jsonb,text,boolean,text)',
    'pgflow_cpp.add_prune_schedule(text,interval,text,text,boolean)',
    'pgflow_cpp.update_schedule(text,text,jsonb,text,text,text)',
    'pgflow_cpp.set_schedule_enabled(text,boolean)',
    'pgflow_cpp.remove_schedule(text)',
    'pgflow_cpp.run_due_schedules(integer)',
    'pgflow_cpp.acquire_scheduler_lease(text,double precision)',
    'pgflow_cpp.release_scheduler_lease(text)'];
  -- Pure or read-only, and nothing a role that may use the schema could not read anyway.
  everyone_may_execute constant text[] := ARRAY[
    'pgflow.is_valid_slug(text)',
    'pgflow.calculate_retry_delay(numeric,integer)',
    'pgflow_cpp.installed_version()',
    'pgflow_cpp.json_matches_shape(jsonb,jsonb)',
    'pgflow_cpp.json_shape_mismatch(jsonb,jsonb,text)',
    'pgflow_cpp.installed_queue()',
    'pgflow_cpp.cron_field_values(text,text,text,integer,integer,text[])',
    'pgflow_cpp.cron_next_run(text,text,timestamp with time zone)',
    'pgflow_cpp.schedule_catch_up_checked(text)'];
  f regprocedure;
BEGIN
  FOREACH f IN ARRAY run_as_owner::regprocedure[] LOOP
    IF NOT (SELECT p.prosecdef FROM pg_proc AS p WHERE p.oid = f) THEN
      RAISE EXCEPTION '% changes state and must be declared SECURITY DEFINER', f;
    END IF;
  END LOOP;

  FOR f IN
    SELECT p.oid FROM pg_proc AS p
    WHERE p.pronamespace IN ('pgflow'::regnamespace, 'pgflow_cpp'::regnamespace)
      AND p.oid <> ALL (everyone_may_execute::regprocedure[])
  LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;

  -- A SECURITY DEFINER function that resolves names through the caller's search_path runs the
  -- caller's objects with the owner's rights.
  SELECT p.oid INTO f FROM pg_proc AS p
  WHERE p.pronamespace IN ('pgflow'::regnamespace, 'pgflow_cpp'::regnamespace) AND p.prosecdef
    AND NOT coalesce('search_path=""' = ANY (p.proconfig), false)
  LIMIT 1;
  IF f IS NOT NULL THEN
    RAISE EXCEPTION '% is SECURITY DEFINER but does not pin search_path = ''''', f;
  END IF;
END
$privileges$;
