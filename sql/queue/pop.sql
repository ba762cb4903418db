-- pgmq.pop(queue_name) -> setof message_record
-- Reads and deletes the oldest visible message (at most one), skipping locked rows.
CREATE OR REPLACE FUNCTION pgmq.pop(queue_name text)
RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    $SQL$
    WITH cte AS (
      SELECT msg_id
      FROM pgmq.%1$I
      WHERE vt <= clock_timestamp()
      ORDER BY msg_id ASC
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    )
    DELETE FROM pgmq.%1$I q
    USING cte
    WHERE q.msg_id = cte.msg_id
    RETURNING q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers
    $SQL$,
    pgmq.format_table_name(queue_name, 'q'));
END;
$$;
