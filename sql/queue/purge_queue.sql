-- pgmq.purge_queue(queue_name) -> bigint
-- Deletes every message of the queue (not its archive); returns how many there were.
CREATE OR REPLACE FUNCTION pgmq.purge_queue(queue_name text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  deleted bigint;
BEGIN
  EXECUTE format('WITH deleted AS (DELETE FROM pgmq.%I RETURNING msg_id) SELECT count(*) FROM deleted',
                 pgmq.format_table_name(queue_name, 'q'))
  INTO deleted;
  RETURN deleted;
END;
$$;
