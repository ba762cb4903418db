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
