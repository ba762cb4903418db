-- pgmq.send_batch: enqueue one message per element of msgs, all with the same visibility time;
-- returns the new msg_ids in array order (callers such as pgflow pair them with positions).
-- headers[i] goes with msgs[i] (NULL when headers is NULL or shorter). Six forms, as pgmq 1.5.1:
-- (queue, msgs), (queue, msgs, headers), (queue, msgs, delay seconds), (queue, msgs, delay
-- timestamptz), (queue, msgs, headers, delay seconds), (queue, msgs, headers, delay timestamptz).
-- The last one does the work; the others are PL/pgSQL, whose call of it is planned once per
-- session (a LANGUAGE sql wrapper with SET search_path cannot be inlined and is planned on every
-- call).
CREATE OR REPLACE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamp with time zone)
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    $SQL$
    INSERT INTO pgmq.%I (vt, message, headers)
    SELECT $2, m.message, m.headers
    FROM unnest($1, coalesce($3, ARRAY[]::jsonb[])) WITH ORDINALITY AS m(message, headers, ord)
    WHERE m.ord <= cardinality($1)
    ORDER BY m.ord
    RETURNING msg_id
    $SQL$,
    pgmq.format_table_name(queue_name, 'q'))
  USING msgs, delay, headers;
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer)
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY SELECT * FROM pgmq.send_batch(queue_name, msgs, headers, clock_timestamp() + make_interval(secs => delay));
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY SELECT * FROM pgmq.send_batch(queue_name, msgs, NULL::jsonb[], clock_timestamp());
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY SELECT * FROM pgmq.send_batch(queue_name, msgs, headers, clock_timestamp());
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], delay integer)
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY SELECT * FROM pgmq.send_batch(queue_name, msgs, NULL::jsonb[], clock_timestamp() + make_interval(secs => delay));
END;
$$;

CREATE OR REPLACE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamp with time zone)
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY SELECT * FROM pgmq.send_batch(queue_name, msgs, NULL::jsonb[], delay);
END;
$$;
