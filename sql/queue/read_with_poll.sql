-- pgmq.read_with_poll(queue_name, vt, qty, max_poll_seconds = 5, poll_interval_ms = 100,
--                     conditional = '{}') -> setof message_record
-- Like read(), retried every poll_interval_ms until it returns at least one message or
-- max_poll_seconds have passed; returns what the first successful attempt got.
CREATE OR REPLACE FUNCTION pgmq.read_with_poll(
  queue_name text,
  vt integer,
  qty integer,
  max_poll_seconds integer DEFAULT 5,
  poll_interval_ms integer DEFAULT 100,
  conditional jsonb DEFAULT '{}'
)
RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  stop_at timestamp with time zone := clock_timestamp() + make_interval(secs => max_poll_seconds);
  sql text := format(
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
    pgmq.format_table_name(queue_name, 'q'));
BEGIN
  LOOP
    IF clock_timestamp() >= stop_at THEN
      RETURN;
    END IF;

    RETURN QUERY EXECUTE sql USING qty, vt, coalesce(conditional, '{}'::jsonb);
    IF FOUND THEN
      RETURN;
    END IF;

    PERFORM pg_sleep(poll_interval_ms::numeric / 1000);
  END LOOP;
END;
$$;
