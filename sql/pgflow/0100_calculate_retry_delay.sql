-- pgflow.calculate_retry_delay(base_delay, attempts_count) -> int
-- Seconds before retry number attempts_count: floor(base_delay * 2^attempts_count), saturating at
-- 2147483647 (pgflow 0.8.1 fails with "integer out of range" there, e.g. base_delay 3600 from the
-- 21st attempt on, and so does the fail_task that asked). NULL in, NULL out.
CREATE OR REPLACE FUNCTION pgflow.calculate_retry_delay(base_delay numeric, attempts_count integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
  -- The exponent is capped at 64 (any delay of 2^-33 s or more has saturated by then) so that
  -- power() cannot overflow double precision.
  SELECT CASE WHEN d.seconds >= 2147483647 THEN 2147483647 ELSE d.seconds::integer END
  FROM (SELECT floor(base_delay * power(2, least(attempts_count, 64))) AS seconds) AS d;
$$;
