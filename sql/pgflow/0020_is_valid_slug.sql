-- pgflow.is_valid_slug(slug) -> boolean
-- True for a non-NULL, non-empty slug of at most 128 characters matching ^[a-zA-Z_][a-zA-Z0-9_]*$
-- that is not the reserved word 'run' (case-sensitive). Used by CHECK constraints on flows/steps.
CREATE OR REPLACE FUNCTION pgflow.is_valid_slug(slug text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  RETURN slug IS NOT NULL
     AND slug <> ''
     AND length(slug) <= 128
     AND slug ~ '^[a-zA-Z_][a-zA-Z0-9_]*$'
     AND slug <> 'run';
END;
$$;
