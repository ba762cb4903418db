-- pgflow_cpp.cron_field_values(expression, field_name, field, lo, hi, names) -> integer[]
-- The sorted values one field of a cron expression allows: lists (1,5), ranges (1-5), steps (*/15,
-- 10-40/10, 5/15 = 5-hi/15), '*', and names (names[1] is the value lo: JAN, MON). A bad field is an
-- error (invalid_parameter_value) naming the expression, the field and what is wrong with it.
CREATE OR REPLACE FUNCTION pgflow_cpp.cron_field_values(
  expression text, field_name text, field text, lo integer, hi integer, names text[] DEFAULT NULL)
RETURNS integer[]
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
  part text;
  range_text text;
  bounds text[];
  step integer;
  a integer;
  b integer;
  k integer;
  values_found integer[] := '{}';
  problem text;
BEGIN
  FOREACH part IN ARRAY string_to_array(field, ',') LOOP
    step := 1;
    range_text := split_part(part, '/', 1);
    IF part LIKE '%/%' THEN
      IF split_part(part, '/', 2) !~ '^[0-9]{1,4}$' OR part LIKE '%/%/%' THEN
        problem := format('step in "%s" is not a number', part);
        EXIT;
      END IF;
      step := split_part(part, '/', 2)::integer;
      IF step = 0 THEN
        problem := format('step in "%s" is 0', part);
        EXIT;
      END IF;
    END IF;
    IF range_text = '*' THEN
      a := lo;
      b := hi;
    ELSE
      bounds := string_to_array(range_text, '-');
      IF cardinality(bounds) > 2 OR range_text = '' THEN
        problem := format('"%s" is not a value, a range or *', part);
        EXIT;
      END IF;
      FOR i IN 1 .. cardinality(bounds) LOOP
        k := NULL;
        IF bounds[i] ~ '^[0-9]{1,4}$' THEN
          k := bounds[i]::integer;
        ELSIF names IS NOT NULL THEN
          k := array_position(names, upper(bounds[i])) - 1 + lo;
        END IF;
        IF k IS NULL THEN
          problem := format('"%s" is not a number%s', bounds[i],
                            CASE WHEN names IS NULL THEN '' ELSE ' or a name (' || array_to_string(names, ' ') || ')' END);
          EXIT;
        ELSIF k < lo OR k > hi THEN
          problem := format('%s is out of range %s-%s', k, lo, hi);
          EXIT;
        END IF;
        bounds[i] := k::text;
      END LOOP;
      EXIT WHEN problem IS NOT NULL;
      a := bounds[1]::integer;
      b := CASE WHEN cardinality(bounds) = 2 THEN bounds[2]::integer WHEN part LIKE '%/%' THEN hi ELSE a END;
      IF a > b THEN
        problem := format('range "%s" runs backwards', part);
        EXIT;
      END IF;
    END IF;
    FOR v IN a .. b BY step LOOP
      values_found := values_found || v;
    END LOOP;
  END LOOP;
  IF problem IS NULL AND (field IS NULL OR field = '') THEN
    problem := 'it is empty';
  END IF;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'invalid cron expression "%": % field "%": %', expression, field_name, field, problem
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN ARRAY(SELECT DISTINCT v FROM unnest(values_found) AS v ORDER BY v);
END;
$$;
