-- pgmq.read(queue_name, vt, qty, conditional = '{}') -> setof message_record
-- Takes up to qty visible messages (vt <= clock_timestamp(), and message @> conditional when
-- conditional is not '{}'), oldest msg_id first, skipping rows locked by concurrent readers; hides
-- them for vt seconds and increments read_ct. Returns them in msg_id order.
-- The UPDATE reaches the messages it locked through the primary key (msg_id = ANY of the locked
-- ids) rather than by a join that the planner may turn into a scan of the whole queue.
CREATE OR REPLACE FUNCTION pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb DEFAULT '{}')
RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    $SQL$
    UPDATE pgmq.%1$I AS m
    SET vt = clock_timestamp() + make_interval(secs => $2),
        read_ct = m.read_ct + 1
    WHERE m.msg_id = ANY (ARRAY(
      SELECT q.msg_id
      FROM pgmq.%1$I AS q
      WHERE q.vt <= clock_timestamp()
        AND ($3 = '{}'::jsonb OR q.message @> $3)
      ORDER BY q.msg_id ASC
      LIMIT $1
      FOR UPDATE SKIP LOCKED))
    RETURNING m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
    $SQL$,
    pgmq.format_table_name(queue_name, 'q'))
  USING qty, vt, coalesce(conditional, '{}'::jsonb);
END;
$$;
