-- pgflow_cpp.installed_version() -> text
-- Version of sql/ most recently installed into this database (NULL if none recorded).
CREATE OR REPLACE FUNCTION pgflow_cpp.installed_version()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
  SELECT v.version
  FROM pgflow_cpp.schema_versions AS v
  ORDER BY string_to_array(v.version, '.')::integer[] DESC
  LIMIT 1;
$$;

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
