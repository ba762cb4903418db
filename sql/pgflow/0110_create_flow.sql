-- pgflow.create_flow(flow_slug, max_attempts = 3, base_delay = 5, timeout = 60) -> pgflow.flows
-- Registers a flow and its queue (queue name = flow slug). Idempotent: an existing flow is returned
-- unchanged (options are never updated) and a missing queue is (re)created.
-- Errors: slug_is_valid / opt_*_is_* CHECK violations; pgmq's "queue name is too long" for slugs of
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
SET search_path = ''
AS $$
DECLARE
  result pgflow.flows;
BEGIN
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
