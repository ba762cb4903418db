-- pgmq.create_unlogged(queue_name) -> void
-- As create_non_partitioned, but the message table is UNLOGGED (faster, emptied by a crash).
CREATE OR REPLACE FUNCTION pgmq.create_unlogged(queue_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  PERFORM pgmq._create_queue(queue_name, true);
END;
$$;
