-- pgmq.metrics(queue_name) -> metrics_result
-- Queue length, visible length, newest/oldest message age in seconds, messages ever sent (from
-- the msg_id sequence) and the time of measurement.
CREATE OR REPLACE FUNCTION pgmq.metrics(queue_name text)
RETURNS pgmq.metrics_result
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  qtable text := pgmq.format_table_name(queue_name, 'q');
  result_row pgmq.metrics_result;
BEGIN
  EXECUTE format(
    $SQL$
    WITH q_summary AS (
      SELECT count(*) AS queue_length,
             count(*) FILTER (WHERE vt <= now()) AS queue_visible_length,
             extract(epoch FROM (now() - max(enqueued_at)))::int AS newest_msg_age_sec,
             extract(epoch FROM (now() - min(enqueued_at)))::int AS oldest_msg_age_sec,
             now() AS scrape_time
      FROM pgmq.%I
    ),
    all_metrics AS (
      SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS total_messages
      FROM pgmq.%I
    )
    SELECT $1, q_summary.queue_length, q_summary.newest_msg_age_sec, q_summary.oldest_msg_age_sec,
           all_metrics.total_messages, q_summary.scrape_time, q_summary.queue_visible_length
    FROM q_summary, all_metrics
    $SQL$,
    qtable, qtable || '_msg_id_seq')
  INTO result_row
  USING queue_name;
  RETURN result_row;
END;
$$;
