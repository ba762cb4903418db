-- pgmq._create_queue(queue_name, unlogged) -> void (internal: create_non_partitioned and
-- create_unlogged differ only in the message table's persistence)
-- Creates pgmq.q_<name> (live messages; UNLOGGED when asked) and pgmq.a_<name> (archive) with
-- their indexes if missing and registers the queue in pgmq.meta. Idempotent: an existing queue is
-- left as it is. Errors: name too long (48+ characters) or containing $ ; -- '.
CREATE OR REPLACE FUNCTION pgmq._create_queue(queue_name text, unlogged boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
BEGIN
  PERFORM pgmq.validate_queue_name(queue_name);

  EXECUTE format(
    $DDL$
    CREATE %s TABLE IF NOT EXISTS pgmq.%I (
      msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
      read_ct integer DEFAULT 0 NOT NULL,
      enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
      vt timestamp with time zone NOT NULL,
      message jsonb,
      headers jsonb
    )
    $DDL$, CASE WHEN unlogged THEN 'UNLOGGED' ELSE '' END, qtable);

  EXECUTE format(
    $DDL$
    CREATE TABLE IF NOT EXISTS pgmq.%I (
      msg_id bigint PRIMARY KEY,
      read_ct integer DEFAULT 0 NOT NULL,
      enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
      archived_at timestamp with time zone DEFAULT now() NOT NULL,
      vt timestamp with time zone NOT NULL,
      message jsonb,
      headers jsonb
    )
    $DDL$, atable);

  -- Only when missing: CREATE INDEX IF NOT EXISTS takes a SHARE lock on the table even when the
  -- index exists, which deadlocks with a running flow's transactions (create_flow again, say).
  IF to_regclass(format('pgmq.%I', qtable || '_vt_idx')) IS NULL THEN
    EXECUTE format('CREATE INDEX %I ON pgmq.%I (vt ASC)', qtable || '_vt_idx', qtable);
  END IF;
  IF to_regclass(format('pgmq.%I', 'archived_at_idx_' || queue_name)) IS NULL THEN
    EXECUTE format('CREATE INDEX %I ON pgmq.%I (archived_at)', 'archived_at_idx_' || queue_name, atable);
  END IF;

  INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)
  VALUES (queue_name, false, unlogged)
  ON CONFLICT DO NOTHING;
END;
$$;
