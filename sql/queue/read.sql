-- pgmq.read(queue_name, vt, qty, conditional = '{}') -> setof message_record
-- Takes up to qty visible messages (vt <= clock_timestamp(), and message @> conditional when
-- conditional is not '{}'), oldest msg_id first, skipping rows locked by concurrent readers; hides
-- them for vt seconds and increments read_ct.
CREATE OR REPLACE FUNCTION pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb DEFAULT '{}')
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
        AND ($3 = '{}'::jsonb OR message @> $3)
      ORDER BY msg_id ASC
      LIMIT $1
      FOR UPDATE SKIP LOCKED
    )
    UPDATE pgmq.%1$I m
    SET vt = clock_timestamp() + make_interval(secs => $2),
        read_ct = read_ct + 1
    FROM cte
    WHERE m.msg_id = cte.msg_id
    RETURNING m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
    $SQL$,
    pgmq.format_table_name(queue_name, 'q'))
  USING qty, vt, coalesce(conditional, '{}'::jsonb);
END;
$$;
