-- pgflow_cpp._admit_tasks(flow_slug, run_ids, step_slugs, task_indexes) -> boolean[]
-- The step limits' part of a claim (pgflow_cpp.claim_tasks calls it only when a candidate's step
-- has a pgflow_cpp.step_limits row): which of the candidate tasks (parallel arrays) may start now.
-- Returns one flag per candidate, in the candidates' order; a candidate of an unlimited step is
-- always true. Per limited step, candidates are taken by run priority (highest first) then
-- message id, and admitted while
--   * the step's live slots (pgflow_cpp.task_slots whose task is still 'started') are fewer than
--     max_concurrency, and those of the candidate's key (run input #>> concurrency_key) fewer than
--     max_per_key (a timed-out task claimed again keeps the slot it holds), and
--   * the step's rate limit had fewer than max_starts starts in the last per_seconds (sliding
--     window, pgflow_cpp.rate_limit_starts).
-- An admitted candidate takes a slot (when the step has a concurrency limit) and logs a start
-- (when it has a rate limit). A refused one stays queued: its message becomes visible again
-- shortly (over a concurrency limit: 0.5 s, +0.1 s per candidate refused before it in this claim,
-- at most 5 s; over a rate limit: when the window's oldest start leaves it).
-- Two sessions never both take the last slot or start: the step_limits rows of the candidates'
-- steps (in step_slug order), then the rate_limits rows (in name order) are locked FOR UPDATE to
-- the end of the claim's transaction, and each count is a new statement, which sees every claim
-- committed before the lock was granted. Locks are always taken in that order: no deadlock.
CREATE OR REPLACE FUNCTION pgflow_cpp._admit_tasks(flow_slug text, run_ids uuid[], step_slugs text[],
                                                   task_indexes integer[])
RETURNS boolean[]
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
-- Statements by key (the limits', slots' and rate log's indexes); no JIT for them whatever the
-- caller's enable_seqscan = off makes of a plan's estimate.
SET jit = off
AS $$
DECLARE
  admitted boolean[] := array_fill(true, ARRAY[cardinality(_admit_tasks.run_ids)]);
  limits pgflow_cpp.step_limits[];
  lim pgflow_cpp.step_limits;
  rate pgflow_cpp.rate_limits;
  c record;
  ok boolean;
  live integer;
  live_keys text[];
  live_per_key integer[];
  k integer;
  refused integer;
  oldest timestamptz;
  delayed_msgs bigint[] := '{}';
  delays double precision[] := '{}';
BEGIN
  SELECT array_agg(l ORDER BY l.step_slug) INTO limits
  FROM (SELECT l.* FROM pgflow_cpp.step_limits AS l
        WHERE l.flow_slug = _admit_tasks.flow_slug AND l.step_slug = ANY (_admit_tasks.step_slugs)
        ORDER BY l.step_slug
        FOR UPDATE) AS l;
  IF limits IS NULL THEN
    RETURN admitted;
  END IF;
  PERFORM 1 FROM (SELECT r.name FROM pgflow_cpp.rate_limits AS r
                  WHERE r.name IN (SELECT l.rate_limit FROM unnest(limits) AS l)
                  ORDER BY r.name
                  FOR UPDATE) AS r;

  FOREACH lim IN ARRAY limits LOOP
    refused := 0;
    IF lim.max_concurrency IS NOT NULL OR lim.max_per_key IS NOT NULL THEN
      -- Slots of tasks that are no longer running.
      DELETE FROM pgflow_cpp.task_slots AS s
      WHERE s.flow_slug = _admit_tasks.flow_slug AND s.step_slug = lim.step_slug
        AND NOT EXISTS (SELECT 1 FROM pgflow.step_tasks AS t
                        WHERE t.run_id = s.run_id AND t.step_slug = s.step_slug AND t.task_index = s.task_index
                          AND t.status = 'started');
      -- The live slots, counted once; the loop below keeps the counts as it admits.
      SELECT coalesce(sum(g.n), 0), array_agg(g.key), array_agg(g.n)
      INTO live, live_keys, live_per_key
      FROM (SELECT s.key, count(*)::integer AS n FROM pgflow_cpp.task_slots AS s
            WHERE s.flow_slug = _admit_tasks.flow_slug AND s.step_slug = lim.step_slug
            GROUP BY s.key) AS g;
    END IF;
    SELECT * INTO rate FROM pgflow_cpp.rate_limits AS r WHERE r.name = lim.rate_limit;
    IF rate.name IS NOT NULL THEN
      DELETE FROM pgflow_cpp.rate_limit_starts AS st
      WHERE st.name = rate.name AND st.started_at <= clock_timestamp() - make_interval(secs => rate.per_seconds::double precision);
    END IF;

    FOR c IN
      SELECT u.ord, u.run_id, u.task_index, t.message_id, t.status,
             CASE WHEN lim.concurrency_key IS NOT NULL THEN r.input #>> lim.concurrency_key END AS key,
             EXISTS (SELECT 1 FROM pgflow_cpp.task_slots AS s
                     WHERE s.run_id = u.run_id AND s.step_slug = lim.step_slug AND s.task_index = u.task_index) AS has_slot
      FROM unnest(_admit_tasks.run_ids, _admit_tasks.step_slugs, _admit_tasks.task_indexes)
             WITH ORDINALITY AS u(run_id, step_slug, task_index, ord)
      JOIN pgflow.step_tasks AS t
        ON t.run_id = u.run_id AND t.step_slug = u.step_slug AND t.task_index = u.task_index
      JOIN pgflow.runs AS r ON r.run_id = u.run_id
      LEFT JOIN pgflow_cpp.run_priorities AS p ON p.run_id = u.run_id
      WHERE u.step_slug = lim.step_slug
      ORDER BY coalesce(p.priority, 0) DESC, t.message_id
    LOOP
      -- Claimed by another session meanwhile (or ended): nothing to admit, nothing to delay.
      IF c.status NOT IN ('queued', 'started') THEN
        admitted[c.ord] := false;
        CONTINUE;
      END IF;
      -- array_position finds NULL too (IS NOT DISTINCT FROM): the NULL key is a value of its own.
      k := array_position(live_keys, c.key);
      ok := c.has_slot
            OR ((lim.max_concurrency IS NULL OR live < lim.max_concurrency)
                AND (lim.max_per_key IS NULL OR coalesce(live_per_key[k], 0) < lim.max_per_key));
      IF NOT ok THEN
        admitted[c.ord] := false;
        delayed_msgs := delayed_msgs || c.message_id;
        delays := delays || least(0.5 + 0.1 * refused, 5.0)::double precision;
        refused := refused + 1;
        CONTINUE;
      END IF;
      IF rate.name IS NOT NULL THEN
        SELECT min(st.started_at) INTO oldest FROM (
          SELECT st.started_at FROM pgflow_cpp.rate_limit_starts AS st
          WHERE st.name = rate.name
            AND st.started_at > clock_timestamp() - make_interval(secs => rate.per_seconds::double precision)
          ORDER BY st.started_at DESC LIMIT rate.max_starts) AS st
        HAVING count(*) >= rate.max_starts;
        IF oldest IS NOT NULL THEN
          admitted[c.ord] := false;
          delayed_msgs := delayed_msgs || c.message_id;
          delays := delays || greatest(extract(epoch FROM oldest + make_interval(secs => rate.per_seconds::double precision)
                                                       - clock_timestamp())::double precision, 0.05);
          CONTINUE;
        END IF;
        INSERT INTO pgflow_cpp.rate_limit_starts (name, started_at) VALUES (rate.name, clock_timestamp());
      END IF;
      IF (lim.max_concurrency IS NOT NULL OR lim.max_per_key IS NOT NULL) AND NOT c.has_slot THEN
        INSERT INTO pgflow_cpp.task_slots (flow_slug, step_slug, run_id, task_index, key)
        VALUES (_admit_tasks.flow_slug, lim.step_slug, c.run_id, c.task_index, c.key)
        ON CONFLICT ON CONSTRAINT task_slots_pkey DO NOTHING;
        live := live + 1;
        IF k IS NULL THEN
          live_keys := live_keys || c.key;
          live_per_key := live_per_key || 1;
        ELSE
          live_per_key[k] := live_per_key[k] + 1;
        END IF;
      END IF;
    END LOOP;
  END LOOP;

  IF cardinality(delayed_msgs) > 0 THEN
    EXECUTE format(
      $SQL$
      UPDATE pgmq.%I AS q
      SET vt = clock_timestamp() + make_interval(secs => d.delay)
      FROM unnest($1, $2) AS d(msg_id, delay)
      WHERE q.msg_id = d.msg_id AND q.msg_id = ANY ($1)
      $SQL$,
      pgmq.format_table_name(_admit_tasks.flow_slug, 'q'))
    USING delayed_msgs, delays;
  END IF;
  RETURN admitted;
END;
$$;
