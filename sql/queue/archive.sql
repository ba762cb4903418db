-- pgmq.archive: move messages from pgmq.q_<name> to pgmq.a_<name> (archived_at = now()).
-- (queue, msg_ids) -> setof bigint: the ids that were moved; unknown ids are skipped.
-- (queue, msg_id) -> boolean: true when the message existed (the array form with one id).
CREATE OR REPLACE FUNCTION pgmq.archive(queue_name text, msg_ids bigint[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    $SQL$
    WITH archived AS (
      DELETE FROM pgmq.%I WHERE msg_id = ANY($1)
      RETURNING msg_id, vt, read_ct, enqueued_at, message, headers
    )
    INSERT INTO pgmq.%I (msg_id, vt, read_ct, enqueued_at, message, headers)
    SELECT msg_id, vt, read_ct, enqueued_at, message, headers FROM archived
    RETURNING msg_id
    $SQL$,
    pgmq.format_table_name(queue_name, 'q'), pgmq.format_table_name(queue_name, 'a'))
  USING msg_ids;
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.archive(queue_name text, msg_id bigint)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM pgmq.archive(queue_name, ARRAY[msg_id]));
END;
$$;
