-- pgflow.set_vt_batch(queue_name, msg_ids, vt_offsets) -> table of the updated messages
-- In one UPDATE, makes each message msg_ids[i] visible again vt_offsets[i] seconds from
-- clock_timestamp() (read_ct unchanged); unknown ids are skipped. Empty when either array is NULL
-- or msg_ids is empty. Errors: 'msg_ids length (<a>) must equal vt_offsets length (<b>)';
-- relation "pgmq.q_<name>" does not exist.
CREATE OR REPLACE FUNCTION pgflow.set_vt_batch(queue_name text, msg_ids bigint[], vt_offsets integer[])
RETURNS TABLE (
  msg_id bigint,
  read_ct integer,
  enqueued_at timestamp with time zone,
  vt timestamp with time zone,
  message jsonb,
  headers jsonb
)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
BEGIN
  IF set_vt_batch.msg_ids IS NULL OR set_vt_batch.vt_offsets IS NULL
     OR array_length(set_vt_batch.msg_ids, 1) = 0 THEN
    RETURN;
  END IF;

  IF array_length(set_vt_batch.msg_ids, 1) IS DISTINCT FROM array_length(set_vt_batch.vt_offsets, 1) THEN
    RAISE EXCEPTION 'msg_ids length (%) must equal vt_offsets length (%)',
      array_length(set_vt_batch.msg_ids, 1), array_length(set_vt_batch.vt_offsets, 1);
  END IF;

  -- "q.msg_id = ANY ($1)" repeats the join condition so that the plan finds the messages through
  -- the primary key even where statistics would make it scan the whole queue (never analyzed).
  RETURN QUERY EXECUTE format(
    $SQL$
    UPDATE pgmq.%I AS q
    SET vt = clock_timestamp() + make_interval(secs => input.vt_offset)
    FROM unnest($1, $2) AS input(msg_id, vt_offset)
    WHERE q.msg_id = input.msg_id AND q.msg_id = ANY ($1)
    RETURNING q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers
    $SQL$,
    pgmq.format_table_name(set_vt_batch.queue_name, 'q'))
  USING set_vt_batch.msg_ids, set_vt_batch.vt_offsets;
END;
$$;
