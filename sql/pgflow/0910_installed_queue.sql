-- pgflow_cpp.installed_queue() -> text
-- 'builtin' (this project's pgmq-compatible queue) or 'extension' (the pgmq extension).
CREATE OR REPLACE FUNCTION pgflow_cpp.installed_queue()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pgmq')
              THEN 'extension' ELSE 'builtin' END;
$$;
