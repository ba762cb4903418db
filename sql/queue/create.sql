-- pgmq.create(queue_name) -> void
-- Creates a (non-partitioned) queue; a no-op for an existing one. Errors: name too long
-- (48+ characters) or containing $ ; -- '.
CREATE OR REPLACE FUNCTION pgmq.create(queue_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  PERFORM pgmq.create_non_partitioned(queue_name);
END;
$$;
