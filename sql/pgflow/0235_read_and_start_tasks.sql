-- pgflow_cpp.read_and_start_tasks(flow_slug, vt, qty, worker_id)
--   -> table (messages, run_id, step_slug, task_index, input, attempt)
-- (Addition: not in pgflow 0.8.1.) A worker's claim in one call: pgmq.read(flow_slug, vt, qty)
-- (by priority, and sharing a big map's batch with later runs: pgflow_cpp._read_messages), then
-- pgflow.start_tasks(flow_slug, <the messages read>, worker_id), then each claimed task's
-- attempt number (its attempts_count after the claim). One row per claimed task in message
-- order, each carrying how many messages were read; when messages were read but none gave a
-- task, one row with only that count; nothing when the queue had no visible message.
-- Saves the worker a round trip and a transaction per claim. When every step of the flow has the
-- same timeout, the messages are read with vt = timeout + 2 (what start_tasks would set) instead of
-- vt, which spares start_tasks' second UPDATE of each message; messages that give no task (their
-- run failed) then stay hidden that long rather than vt. Safe in one transaction because
-- start_tasks never stamps started_at before a task's queued_at (difference 13 of sql/README.md);
-- pgflow 0.8.1's start_tasks would violate started_at_is_after_queued_at when the read sees a
-- run committed after the calling transaction began.
-- Errors: 42P01 'read_and_start_tasks: "<slug>" is not a registered flow' (as pgmq.read of a
-- missing queue); 22023 'read_and_start_tasks: qty must be 0 or more (got <qty>)'.
CREATE OR REPLACE FUNCTION pgflow_cpp.read_and_start_tasks(flow_slug text, vt integer, qty integer, worker_id uuid)
RETURNS TABLE (messages integer, run_id uuid, step_slug text, task_index integer, input jsonb, attempt integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
-- As in start_tasks: one generic plan per statement, reaching tasks by key whatever the statistics.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
  msg_ids bigint[];
  shortest integer;
  longest integer;
  claimed pgflow.step_task_record[];
BEGIN
  IF read_and_start_tasks.qty IS NULL OR read_and_start_tasks.qty < 0 THEN
    RAISE EXCEPTION 'read_and_start_tasks: qty must be 0 or more (got %)', coalesce(read_and_start_tasks.qty::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT min(coalesce(s.opt_timeout, f.opt_timeout)), max(coalesce(s.opt_timeout, f.opt_timeout))
  INTO shortest, longest
  FROM pgflow.flows AS f
  JOIN pgflow.steps AS s ON s.flow_slug = f.flow_slug
  WHERE f.flow_slug = read_and_start_tasks.flow_slug;
  -- Only a flow's queue: the function runs as the schema owner, so a name that is not a flow
  -- must not let a caller hide the messages of some other queue (a flow without steps has none).
  IF shortest IS NULL THEN
    IF NOT EXISTS (SELECT 1 FROM pgflow.flows AS f WHERE f.flow_slug = read_and_start_tasks.flow_slug) THEN
      RAISE EXCEPTION 'read_and_start_tasks: "%" is not a registered flow', read_and_start_tasks.flow_slug
        USING ERRCODE = 'undefined_table';
    END IF;
    RETURN;
  END IF;

  -- pgmq.read, but by priority while the flow's runs have priorities, and with a big map's batch
  -- shared with later runs (fairness): see pgflow_cpp._read_messages.
  msg_ids := pgflow_cpp._read_messages(read_and_start_tasks.flow_slug,
                                       CASE WHEN shortest = longest THEN shortest + 2 ELSE read_and_start_tasks.vt END,
                                       read_and_start_tasks.qty);
  IF msg_ids IS NULL THEN
    RETURN;
  END IF;

  SELECT array_agg(t ORDER BY t.msg_id) INTO claimed
  FROM pgflow_cpp.claim_tasks(read_and_start_tasks.flow_slug, msg_ids, read_and_start_tasks.worker_id,
                              hide_messages => shortest IS DISTINCT FROM longest) AS t;

  -- A statement of its own, so that its snapshot sees the claim's attempts_count.
  RETURN QUERY
  SELECT cardinality(msg_ids), c.run_id, c.step_slug, c.task_index, c.input, st.attempts_count
  FROM unnest(claimed) AS c
  JOIN pgflow.step_tasks AS st
    ON st.run_id = c.run_id AND st.step_slug = c.step_slug AND st.task_index = c.task_index
  ORDER BY c.msg_id;
  IF NOT FOUND THEN
    RETURN QUERY SELECT cardinality(msg_ids), NULL::uuid, NULL::text, NULL::integer, NULL::jsonb, NULL::integer;
  END IF;
END;
$$;
