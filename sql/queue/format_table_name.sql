-- pgmq.format_table_name(queue_name, prefix) -> text
-- Name of a queue's table: lower(prefix || '_' || queue_name). Raises for names containing $, ;,
-- -- or a single quote (they could not be used safely in the dynamic statements below).
CREATE OR REPLACE FUNCTION pgmq.format_table_name(queue_name text, prefix text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF queue_name ~ '\$|;|--|''' THEN
    RAISE EXCEPTION 'queue name contains invalid characters: $, ;, --, or \''';
  END IF;
  RETURN lower(prefix || '_' || queue_name);
END;
$$;
