-- Built-in pgmq-compatible queue (pgmq 1.5.1's objects and semantics, for servers without the
-- extension): schema, the three composite types and the queue registry table.
CREATE SCHEMA IF NOT EXISTS pgmq;

DO $$
BEGIN
  IF to_regtype('pgmq.message_record') IS NULL THEN
    CREATE TYPE pgmq.message_record AS (
      msg_id bigint,
      read_ct integer,
      enqueued_at timestamp with time zone,
      vt timestamp with time zone,
      message jsonb,
      headers jsonb
    );
  END IF;
  IF to_regtype('pgmq.queue_record') IS NULL THEN
    CREATE TYPE pgmq.queue_record AS (
      queue_name varchar,
      is_partitioned boolean,
      is_unlogged boolean,
      created_at timestamp with time zone
    );
  END IF;
  IF to_regtype('pgmq.metrics_result') IS NULL THEN
    CREATE TYPE pgmq.metrics_result AS (
      queue_name text,
      queue_length bigint,
      newest_msg_age_sec integer,
      oldest_msg_age_sec integer,
      total_messages bigint,
      scrape_time timestamp with time zone,
      queue_visible_length bigint
    );
  END IF;
END
$$;

-- One row per queue; queue_name keeps the spelling given to create() while the tables are lower-case.
CREATE TABLE IF NOT EXISTS pgmq.meta (
  queue_name varchar UNIQUE NOT NULL,
  is_partitioned boolean NOT NULL,
  is_unlogged boolean NOT NULL,
  created_at timestamp with time zone DEFAULT now() NOT NULL
);

-- As pgmq: monitoring roles may look at the queues.
GRANT USAGE ON SCHEMA pgmq TO pg_monitor;
GRANT SELECT ON ALL TABLES IN SCHEMA pgmq TO pg_monitor;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA pgmq TO pg_monitor;
ALTER DEFAULT PRIVILEGES IN SCHEMA pgmq GRANT SELECT ON TABLES TO pg_monitor;
ALTER DEFAULT PRIVILEGES IN SCHEMA pgmq GRANT SELECT ON SEQUENCES TO pg_monitor;
