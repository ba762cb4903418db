-- pgflow.poll_for_tasks(queue_name, vt, qty, max_poll_seconds = 5, poll_interval_ms = 100)
--   -> setof pgflow.step_task_record
-- Deprecated since pgflow 0.5 (workers use pgmq.read_with_poll + start_tasks): raises a NOTICE
-- saying so and returns nothing.
CREATE OR REPLACE FUNCTION pgflow.poll_for_tasks(
  queue_name text,
  vt integer,
  qty integer,
  max_poll_seconds integer DEFAULT 5,
  poll_interval_ms integer DEFAULT 100
)
RETURNS SETOF pgflow.step_task_record
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
BEGIN
  RAISE NOTICE 'DEPRECATED: poll_for_tasks is deprecated and will be removed. Please update pgflow via "npx pgflow install".';
  RETURN;
END;
$$;
