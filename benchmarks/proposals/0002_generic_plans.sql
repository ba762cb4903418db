-- Proposal 0002 (speed): let pgflow's plpgsql functions reuse generic plans.
--
-- PL/pgSQL caches a plan per statement, but by default (plan_cache_mode = auto) re-plans with the
-- actual parameter values ("custom plan") as long as a custom plan looks cheaper than the generic
-- one, which for start_tasks' input-building statement (many CTEs and sub-plans) is every call.
-- Planning that statement costs far more than running it. Measured on PostgreSQL 15, one session,
-- 500 single-step runs, per call:
--   start_tasks    1.74 ms -> 0.38 ms      start_flow 0.66 ms -> 0.59 ms
--   complete_task  0.51 ms -> 0.53 ms (unchanged: its statements are planned once anyway)
-- The statements filter on keys (run_id, step_slug, flow_slug, message_id) and constant states,
-- so one generic plan is right for every call. In the function files this is one more line,
--   SET plan_cache_mode = force_generic_plan
-- beside SET search_path = '' on every plpgsql function of schema pgflow.
DO $proposal$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure
    FROM pg_proc AS p
    JOIN pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_language AS l ON l.oid = p.prolang
    WHERE n.nspname = 'pgflow' AND l.lanname = 'plpgsql'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET plan_cache_mode = force_generic_plan', f);
  END LOOP;
END
$proposal$;
