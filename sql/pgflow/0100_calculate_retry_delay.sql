-- pgflow.calculate_retry_delay(base_delay, attempts_count) -> int
-- Seconds before retry number attempts_count: floor(base_delay * 2^attempts_count), no cap.
CREATE OR REPLACE FUNCTION pgflow.calculate_retry_delay(base_delay numeric, attempts_count integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
  SELECT floor(base_delay * power(2, attempts_count))::integer;
$$;
