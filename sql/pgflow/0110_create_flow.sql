-- pgflow.create_flow(flow_slug, max_attempts = 3, base_delay = 5, timeout = 60) -> pgflow.flows
-- Registers a flow and its queue (queue name = flow slug). Idempotent: an existing flow is returned
-- unchanged (options are never updated) and a missing queue is (re)created.
-- Refuses a slug that differs only in case from a registered one (pgmq lower-cases queue table
-- names, so both flows would share one queue): SQLSTATE 23505, naming both slugs.
-- Errors: slug_is_valid / opt_* CHECK violations; pgmq's "queue name is too long" for slugs of
-- 48+ characters.
CREATE OR REPLACE FUNCTION pgflow.create_flow(
  flow_slug text,
  max_attempts integer DEFAULT 3,
  base_delay integer DEFAULT 5,
  timeout integer DEFAULT 60
)
RETURNS pgflow.flows
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  result pgflow.flows;
  namesake text;
BEGIN
  -- Serializes registrations of slugs that differ only in case, so that the check below sees
  -- the other's row.
  PERFORM pg_advisory_xact_lock(hashtext('pgflow-cpp flow slug ' || lower(create_flow.flow_slug)));
  SELECT f.flow_slug INTO namesake FROM pgflow.flows AS f
  WHERE lower(f.flow_slug) = lower(create_flow.flow_slug) AND f.flow_slug <> create_flow.flow_slug
  LIMIT 1;
  IF namesake IS NOT NULL THEN
    RAISE EXCEPTION 'Flow slug "%" differs only in case from the registered flow "%": both would use the queue table pgmq.%',
      create_flow.flow_slug, namesake, pgmq.format_table_name(create_flow.flow_slug, 'q')
      USING ERRCODE = 'unique_violation',
            HINT = 'Flow slugs must differ in more than case; pick another slug.';
  END IF;

  INSERT INTO pgflow.flows (flow_slug, opt_max_attempts, opt_base_delay, opt_timeout)
  VALUES (create_flow.flow_slug, create_flow.max_attempts, create_flow.base_delay, create_flow.timeout)
  ON CONFLICT ON CONSTRAINT flows_pkey DO NOTHING
  RETURNING * INTO result;

  IF result.flow_slug IS NULL THEN
    SELECT * INTO result FROM pgflow.flows AS f WHERE f.flow_slug = create_flow.flow_slug;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pgmq.list_queues() AS q WHERE q.queue_name = create_flow.flow_slug) THEN
    PERFORM pgmq.create(create_flow.flow_slug);
  END IF;

  RETURN result;
END;
$$;
