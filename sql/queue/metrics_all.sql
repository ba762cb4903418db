-- pgmq.metrics_all() -> setof metrics_result: pgmq.metrics() of every registered queue.
CREATE OR REPLACE FUNCTION pgmq.metrics_all()
RETURNS SETOF pgmq.metrics_result
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT queue_name FROM pgmq.meta ORDER BY queue_name LOOP
    RETURN NEXT pgmq.metrics(q.queue_name);
  END LOOP;
END;
$$;
