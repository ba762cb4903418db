-- Queue through the real pgmq extension (1.5 or newer). Chosen by queue/choose.sql.
-- Same objects and calls as the built-in queue, so the rest of the schema does not care which one
-- is installed.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pgmq')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions
                      WHERE name = 'pgmq' AND version ~ '^[0-9]+(\.[0-9]+)*$'
                        AND string_to_array(version, '.')::int[] >= ARRAY[1, 5]) THEN
    RAISE EXCEPTION 'pgflow install: the pgmq extension 1.5 or newer is not available on this server'
      USING HINT = 'Install pgmq >= 1.5 or install with the built-in queue (psql -v queue=builtin).';
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS pgmq;
CREATE EXTENSION IF NOT EXISTS pgmq WITH SCHEMA pgmq;

-- pgflow 0.8 needs pgmq 1.5 (message_record.headers); an older pgmq already installed is refused.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = t.typrelid
    WHERE n.nspname = 'pgmq' AND t.typname = 'message_record'
      AND a.attname = 'headers' AND a.attnum > 0 AND NOT a.attisdropped
  ) THEN
    RAISE EXCEPTION 'pgflow install: the installed pgmq extension is older than 1.5 (pgmq.message_record has no headers column)'
      USING HINT = 'ALTER EXTENSION pgmq UPDATE to 1.5 or newer.';
  END IF;
END
$$;
