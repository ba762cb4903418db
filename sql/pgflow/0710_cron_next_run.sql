-- pgflow_cpp.cron_next_run(cron, time_zone, after) -> timestamptz
-- The first tick of a schedule strictly after `after`. cron is 5 fields (minute hour day-of-month
-- month day-of-week) or 6 (seconds first), with lists, ranges, steps and names (JAN-DEC, SUN-SAT;
-- day-of-week 0 and 7 are Sunday; when both day fields are restricted a day matching either runs,
-- as in cron); or @yearly @annually @monthly @weekly @daily @midnight @hourly; or
-- '@every <interval>' (e.g. '@every 1s', '@every 15 minutes'): ticks at whole multiples of the
-- interval since the Unix epoch, time zone ignored. Fields are read as wall-clock time in
-- time_zone (PostgreSQL's zone names). Daylight saving: a wall-clock time that does not exist
-- (the skipped hour) runs at the same offset after the change (02:30 -> 03:30); one that occurs
-- twice runs once, at its second (standard time) occurrence. A bad expression or zone is an error
-- (invalid_parameter_value) naming what is wrong; so is one that never matches (30 2 ...), and
-- an `after` of infinity or -infinity (no tick follows it; null_value_not_allowed when NULL).
CREATE OR REPLACE FUNCTION pgflow_cpp.cron_next_run(cron text, time_zone text, after timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
  expr text := btrim(regexp_replace(coalesce(cron, ''), '\s+', ' ', 'g'));
  fields text[];
  every interval;
  every_seconds numeric;
  with_seconds boolean;
  seconds integer[];
  minutes integer[];
  hours integer[];
  days integer[];
  months integer[];
  weekdays integer[];
  any_day boolean;
  t timestamp;
  give_up timestamp;
  day_ok boolean;
  candidate timestamptz;
BEGIN
  IF after IS NULL THEN
    RAISE EXCEPTION 'cron_next_run: after must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- The walk below would never reach a tick after infinity (nor leave -infinity): it would spin.
  IF NOT isfinite(after) THEN
    RAISE EXCEPTION 'cron_next_run: after must be a finite timestamp, not %', after USING ERRCODE = 'invalid_parameter_value';
  END IF;
  expr := CASE lower(expr)
    WHEN '@yearly' THEN '0 0 1 1 *' WHEN '@annually' THEN '0 0 1 1 *' WHEN '@monthly' THEN '0 0 1 * *'
    WHEN '@weekly' THEN '0 0 * * 0' WHEN '@daily' THEN '0 0 * * *' WHEN '@midnight' THEN '0 0 * * *'
    WHEN '@hourly' THEN '0 * * * *' ELSE expr END;

  IF lower(expr) LIKE '@every %' THEN
    BEGIN
      every := substr(expr, 8)::interval;
    EXCEPTION WHEN OTHERS THEN
      RAISE EXCEPTION 'invalid cron expression "%": "%" is not an interval (e.g. @every 30s, @every 5 minutes)',
        cron, substr(expr, 8) USING ERRCODE = 'invalid_parameter_value';
    END;
    every_seconds := extract(epoch FROM every);
    IF NOT isfinite(every) OR extract(year FROM every) <> 0 OR extract(month FROM every) <> 0 OR every_seconds < 1 THEN
      RAISE EXCEPTION 'invalid cron expression "%": @every takes an interval of at least 1 second, in seconds, minutes, hours or days (not months or years)',
        cron USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN to_timestamp(((floor(extract(epoch FROM after) / every_seconds) + 1) * every_seconds)::double precision);
  END IF;

  fields := string_to_array(expr, ' ');
  IF coalesce(cardinality(fields), 0) NOT IN (5, 6) THEN
    RAISE EXCEPTION 'invalid cron expression "%": % fields; expected 5 (minute hour day-of-month month day-of-week), 6 (seconds first), @every <interval> or @yearly, @monthly, @weekly, @daily, @hourly',
      cron, coalesce(cardinality(fields), 0) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  with_seconds := cardinality(fields) = 6;
  IF NOT with_seconds THEN
    fields := '0'::text || fields;
  END IF;
  seconds := pgflow_cpp.cron_field_values(cron, 'second', fields[1], 0, 59);
  minutes := pgflow_cpp.cron_field_values(cron, 'minute', fields[2], 0, 59);
  hours := pgflow_cpp.cron_field_values(cron, 'hour', fields[3], 0, 23);
  days := pgflow_cpp.cron_field_values(cron, 'day-of-month', fields[4], 1, 31);
  months := pgflow_cpp.cron_field_values(cron, 'month', fields[5], 1, 12,
    ARRAY['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']);
  weekdays := pgflow_cpp.cron_field_values(cron, 'day-of-week', fields[6], 0, 7,
    ARRAY['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']);
  IF 7 = ANY (weekdays) THEN
    weekdays := weekdays || 0;
  END IF;
  any_day := fields[4] LIKE '*%' OR fields[6] LIKE '*%';

  BEGIN
    t := after AT TIME ZONE time_zone;
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'unknown time zone "%" (use a name from pg_timezone_names, e.g. Europe/Berlin or UTC)', time_zone
      USING ERRCODE = 'invalid_parameter_value';
  END;
  IF time_zone IS NULL THEN
    RAISE EXCEPTION 'unknown time zone NULL (use a name from pg_timezone_names, e.g. UTC)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  t := date_trunc('second', t) + interval '1 second';
  give_up := t + interval '30 years';
  -- Walk forward field by field in wall-clock time, skipping a whole month, day, hour or minute
  -- when its field does not match: a few hundred steps at most for any real expression.
  LOOP
    IF t > give_up THEN
      RAISE EXCEPTION 'invalid cron expression "%": it never matches (no such date within 30 years)', cron
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT extract(month FROM t)::integer = ANY (months) THEN
      t := date_trunc('month', t) + interval '1 month';
      CONTINUE;
    END IF;
    day_ok := CASE WHEN any_day
                THEN extract(day FROM t)::integer = ANY (days) AND extract(dow FROM t)::integer = ANY (weekdays)
                ELSE extract(day FROM t)::integer = ANY (days) OR extract(dow FROM t)::integer = ANY (weekdays) END;
    IF NOT day_ok THEN
      t := date_trunc('day', t) + interval '1 day';
      CONTINUE;
    END IF;
    IF NOT extract(hour FROM t)::integer = ANY (hours) THEN
      t := date_trunc('hour', t) + interval '1 hour';
      CONTINUE;
    END IF;
    IF NOT extract(minute FROM t)::integer = ANY (minutes) THEN
      t := date_trunc('minute', t) + interval '1 minute';
      CONTINUE;
    END IF;
    IF NOT floor(extract(second FROM t))::integer = ANY (seconds) THEN
      t := t + interval '1 second';
      CONTINUE;
    END IF;
    candidate := t AT TIME ZONE time_zone;
    -- In the repeated hour after a change back, wall-clock times map to their later occurrence, which
    -- may not be after `after` yet: keep walking.
    IF candidate > after THEN
      RETURN candidate;
    END IF;
    t := t + interval '1 second';
  END LOOP;
END;
$$;
