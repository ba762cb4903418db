-- pgmq.list_queues() -> setof queue_record: every registered queue.
CREATE OR REPLACE FUNCTION pgmq.list_queues()
RETURNS SETOF pgmq.queue_record
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
  SELECT queue_name, is_partitioned, is_unlogged, created_at FROM pgmq.meta;
$$;
