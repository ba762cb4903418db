-- pgmq.read_with_poll(queue_name, vt, qty, max_poll_seconds = 5, poll_interval_ms = 100,
--                     conditional = '{}') -> setof message_record
-- pgmq.read(), retried every poll_interval_ms until it returns at least one message or
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
BEGIN
  LOOP
    IF clock_timestamp() >= stop_at THEN
      RETURN;
    END IF;

    RETURN QUERY SELECT * FROM pgmq.read(queue_name, vt, qty, conditional);
    IF FOUND THEN
      RETURN;
    END IF;

    PERFORM pg_sleep(poll_interval_ms::numeric / 1000);
  END LOOP;
END;
$$;
