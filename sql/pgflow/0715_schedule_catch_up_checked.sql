-- pgflow_cpp.schedule_catch_up_checked(catch_up) -> text
-- catch_up itself when it is a known policy ('one', 'all'), else an error that lists them.
CREATE OR REPLACE FUNCTION pgflow_cpp.schedule_catch_up_checked(catch_up text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF catch_up IS NULL OR catch_up NOT IN ('one', 'all') THEN
    RAISE EXCEPTION 'catch_up must be ''one'' (one run for a missed window) or ''all'' (one run per missed tick), not %',
      coalesce(quote_literal(catch_up), 'NULL') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN catch_up;
END;
$$;
