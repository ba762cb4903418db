-- Proposal 0001 (correctness under load): start_tasks must not stamp started_at before queued_at.
--
-- pgflow::worker claims with ONE statement, start_tasks(…, ARRAY(SELECT msg_id FROM pgmq.read(…))).
-- pgmq.read and start_tasks are volatile plpgsql functions, so each of their statements takes a
-- new snapshot and can see a run that start_flow committed after the claiming statement began;
-- started_at = now() (the claim's transaction start) is then earlier than that run's queued_at
-- and the row violates CHECK started_at_is_after_queued_at. The claim fails as a whole and the
-- worker backs off for max_poll (2 s). Measured: single-step runs at 4 workers, 2 s window,
-- 2-3 such failures per window; throughput 198 tasks/s instead of ~700.
-- Fix: started_at = greatest(now(), queued_at). Identical to now() whenever the claim began after
-- the run was queued (always the case for pgflow's edge worker, which reads and claims in two
-- transactions), so pgflow 0.8.1's behaviour and tests are unchanged.
--
-- Applied here by rewriting the installed function's text, so that the change is exactly this line.
-- Adopted in sql/ (commit 92f178d); kept so that older installs can be measured.
DO $proposal$
DECLARE
  def text := pg_get_functiondef('pgflow.start_tasks(text, bigint[], uuid)'::regprocedure);
  -- sql/'s start_tasks calls pgflow_cpp.claim_tasks, which holds the claim.
  implementation text := coalesce(pg_get_functiondef(
    to_regprocedure('pgflow_cpp.claim_tasks(text, bigint[], uuid, boolean)')), def);
  fixed text;
BEGIN
  IF position('greatest(now(), t.queued_at)' IN implementation) > 0 THEN
    RAISE NOTICE 'proposal 0001 is already in sql/ (start_tasks uses greatest(now(), t.queued_at))';
    RETURN;
  END IF;
  fixed := replace(def, 'started_at = now(),', 'started_at = greatest(now(), t.queued_at),');
  IF fixed = def THEN
    RAISE WARNING 'proposal 0001 does not apply: start_tasks no longer contains "started_at = now(),"';
    RETURN;
  END IF;
  EXECUTE fixed;
END
$proposal$;
