-- pgmq.delete: remove messages from pgmq.q_<name> without archiving them.
-- (queue, msg_ids) -> setof bigint: the ids that were deleted; unknown ids are skipped.
-- (queue, msg_id) -> boolean: true when the message existed (the array form with one id).
CREATE OR REPLACE FUNCTION pgmq.delete(queue_name text, msg_ids bigint[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY EXECUTE format('DELETE FROM pgmq.%I WHERE msg_id = ANY($1) RETURNING msg_id',
                              pgmq.format_table_name(queue_name, 'q'))
  USING msg_ids;
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.delete(queue_name text, msg_id bigint)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM pgmq.delete(queue_name, ARRAY[msg_id]));
END;
$$;
