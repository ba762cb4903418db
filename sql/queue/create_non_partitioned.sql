-- pgmq.create_non_partitioned(queue_name) -> void
-- Creates pgmq.q_<name> (live messages) and pgmq.a_<name> (archive) with their indexes if missing
-- and registers the queue in pgmq.meta. Idempotent.
CREATE OR REPLACE FUNCTION pgmq.create_non_partitioned(queue_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  PERFORM pgmq._create_queue(queue_name, false);
END;
$$;
