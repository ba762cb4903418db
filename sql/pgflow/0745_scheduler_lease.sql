-- pgflow_cpp.acquire_scheduler_lease(holder, lease_seconds) -> boolean
-- pgflow_cpp.release_scheduler_lease(holder) -> boolean
-- The scheduler election: acquire takes the lease when nobody holds it or its holder let it
-- expire, renews it when `holder` holds it already, and says whether `holder` holds it now
-- (until now + lease_seconds, database clock). release gives it up at once (a clean shutdown
-- hands over without waiting for the expiry). A scheduler that dies hands over after at most
-- lease_seconds. Two holders can overlap only if one outlives its lease; run_due_schedules
-- stays exactly-once regardless. Errors (invalid_parameter_value): a NULL or empty holder;
-- lease_seconds NULL, NaN, infinite, <= 0 or above 86400 (a day: a longer lease would leave the
-- schedules without a scheduler that long after its holder dies).
CREATE OR REPLACE FUNCTION pgflow_cpp.acquire_scheduler_lease(holder text, lease_seconds double precision DEFAULT 3)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  at constant timestamptz := clock_timestamp();
  held boolean;
BEGIN
  -- NOT (... > 0 AND ... <= 86400) also refuses NaN, which PostgreSQL sorts above every number.
  IF holder IS NULL OR holder = '' OR lease_seconds IS NULL OR NOT (lease_seconds > 0 AND lease_seconds <= 86400) THEN
    RAISE EXCEPTION 'acquire_scheduler_lease: holder must be a non-empty name and lease_seconds positive, at most 86400 (a day) (got %, %)',
      coalesce(quote_literal(holder), 'NULL'), coalesce(lease_seconds::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO pgflow_cpp.scheduler_lease AS l (holder, acquired_at, renewed_at, expires_at)
  VALUES (acquire_scheduler_lease.holder, at, at, at + make_interval(secs => lease_seconds))
  ON CONFLICT ON CONSTRAINT scheduler_lease_pkey DO UPDATE
  SET holder = excluded.holder,
      acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
      renewed_at = excluded.renewed_at,
      expires_at = excluded.expires_at
  WHERE l.holder = excluded.holder OR l.expires_at <= excluded.renewed_at
  RETURNING true INTO held;
  RETURN coalesce(held, false);
END;
$$;

CREATE OR REPLACE FUNCTION pgflow_cpp.release_scheduler_lease(holder text)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
  WITH released AS (DELETE FROM pgflow_cpp.scheduler_lease AS l WHERE l.holder = release_scheduler_lease.holder RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM released);
$$;
