-- The browser test's database: two flows, a worker, and helpers that play the worker's part
-- through pgflow's SQL API (read_and_start_tasks, complete_task, fail_task), so that runs reach
-- every state without a worker process. Run with psql -v ON_ERROR_STOP=1 after `pgflow install`.

-- browser_demo: fetch -> (translate: a map over fetch's array, summarize) -> publish.
-- One attempt per task, so that one failure fails the run.
SELECT pgflow.create_flow('browser_demo', max_attempts => 1, base_delay => 1, timeout => 30);
SELECT pgflow.add_step('browser_demo', 'fetch');
SELECT pgflow.add_step('browser_demo', 'translate', ARRAY['fetch'], step_type => 'map');
SELECT pgflow.add_step('browser_demo', 'summarize', ARRAY['fetch'], max_attempts => 1, timeout => 20);
SELECT pgflow.add_step('browser_demo', 'publish', ARRAY['translate', 'summarize']);
-- browser_slow: a run of it stays started (its queue is never worked).
SELECT pgflow.create_flow('browser_slow');
SELECT pgflow.add_step('browser_slow', 'wait_for_approval');
SELECT pgflow.add_step('browser_slow', 'notify', ARRAY['wait_for_approval']);

INSERT INTO pgflow.workers (worker_id, queue_name, function_name, started_at, last_heartbeat_at)
VALUES ('00000000-0000-4000-8000-00000000b70e', 'browser_demo', 'browser-test', now() - interval '5 minutes', now());

CREATE SCHEMA browser_test;

-- One wave of work on a flow's queue: claims what is visible and completes each task (fails the
-- tasks of fail_step). fetch returns an array for the map step. Returns how many tasks it settled.
CREATE FUNCTION browser_test.work(flow text, fail_step text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  t record;
  settled integer := 0;
BEGIN
  FOR t IN SELECT * FROM pgflow_cpp.read_and_start_tasks(flow, 30, 100, '00000000-0000-4000-8000-00000000b70e')
           WHERE run_id IS NOT NULL
  LOOP
    IF t.step_slug = fail_step THEN
      PERFORM pgflow.fail_task(t.run_id, t.step_slug, t.task_index,
                               format('RuntimeError: %s could not reach the upstream service (HTTP 503)', t.step_slug));
    ELSIF t.step_slug = 'fetch' THEN
      PERFORM pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '["en", "fr", "de"]'::jsonb);
    ELSE
      PERFORM pgflow.complete_task(t.run_id, t.step_slug, t.task_index,
                                   jsonb_build_object('step', t.step_slug, 'task', t.task_index, 'ok', true));
    END IF;
    settled := settled + 1;
  END LOOP;
  UPDATE pgflow.workers SET last_heartbeat_at = now() WHERE worker_id = '00000000-0000-4000-8000-00000000b70e';
  RETURN settled;
END
$$;

-- Works a flow's queue until nothing is left to claim.
CREATE FUNCTION browser_test.drain(flow text, fail_step text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..20 LOOP
    EXIT WHEN browser_test.work(flow, fail_step) = 0;
  END LOOP;
END
$$;
