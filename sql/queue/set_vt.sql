-- pgmq.set_vt(queue_name, msg_id, vt) -> setof message_record
-- Makes the message visible again vt seconds from clock_timestamp(); returns the updated message
-- (nothing for an unknown id).
CREATE OR REPLACE FUNCTION pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    $SQL$
    UPDATE pgmq.%I
    SET vt = clock_timestamp() + make_interval(secs => $2)
    WHERE msg_id = $1
    RETURNING msg_id, read_ct, enqueued_at, vt, message, headers
    $SQL$,
    pgmq.format_table_name(queue_name, 'q'))
  USING msg_id, vt;
END;
$$;
