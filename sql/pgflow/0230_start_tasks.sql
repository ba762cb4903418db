-- pgflow.start_tasks(flow_slug, msg_ids, worker_id) -> setof pgflow.step_task_record
-- Claims the tasks of this flow whose queue messages are msg_ids, of started steps of started runs
-- (pgflow 0.14; 0.8.1 only excluded failed runs): each 'queued' task, and each task still 'started' whose deadline (started_at + timeout + 2 s) has
-- passed, i.e. whose worker is presumed dead (a new attempt; the timed-out one is recorded in
-- error_message, which names the attempt and its worker: stopped (deprecated_at), silent (no
-- heartbeat for over 10 s: it crashed or lost the database), or still heartbeating, when the
-- handler merely ran long). Claimed: attempts_count + 1, status 'started', started_at now() (or queued_at,
-- when the run was committed after the claiming transaction began), last_worker_id.
-- Their messages are hidden for timeout + 2 s, so a running task is not handed out again before
-- its deadline. A timed-out task without attempts left is failed through pgflow.fail_task with
-- 'Task timed out after <timeout> s: attempt <n>…' (failing its step and run) and not returned.
-- Returns one record per claimed task with its input (see pgflow's input rules; a dependency that
-- did not complete, i.e. was skipped, has no key in a single step's input: pgflow 0.14).
-- Errors: step_tasks_last_worker_id_fkey when worker_id is not in pgflow.workers.
--
-- pgflow_cpp.claim_tasks(flow_slug, msg_ids, worker_id, hide_messages) is the implementation;
-- hide_messages => false leaves the messages' visibility alone, for a caller that read them with
-- the right vt already (pgflow_cpp.read_and_start_tasks, when every step of the flow has the same
-- timeout): one dynamic UPDATE of the queue less per claim.
CREATE OR REPLACE FUNCTION pgflow_cpp.claim_tasks(flow_slug text, msg_ids bigint[], worker_id uuid,
                                                  hide_messages boolean)
RETURNS SETOF pgflow.step_task_record
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
-- Generic plans that reach rows by key whatever the statistics say: planning the statements per
-- call for their parameters (what plan_cache_mode auto chose, every time) cost 0.25-0.7 ms per
-- call, running them 0.03-0.1 ms. enable_seqscan = off makes every plan probe the keys' indexes
-- even when it was made while the tables were small or never analyzed (a cached plan outlives
-- that), so a claim costs O(messages), never O(tasks in flight).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
  cand_runs uuid[];
  cand_steps text[];
  cand_indexes integer[];
  cand_timeouts integer[];
  cand_max_attempts integer[];
  cand_messages text[];
  expired_runs uuid[];
  expired_steps text[];
  expired_indexes integer[];
  expired_messages text[];
  claimed_runs uuid[];
  claimed_steps text[];
  claimed_indexes integer[];
  claimed_msgs bigint[];
  claimed_vts integer[];
  stale_messages bigint[];
BEGIN
  IF claim_tasks.msg_ids IS NULL OR cardinality(claim_tasks.msg_ids) = 0 THEN
    RETURN;
  END IF;

  -- The tasks are looked up from the messages: one probe of the message_id index per message.
  -- The OFFSET 0 keeps that lookup a per-message subquery, and the flow is checked outside it,
  -- so that no plan (whatever the table statistics say, e.g. on tables never analyzed) scans the
  -- flow's tasks instead: a claim costs O(messages), not O(tasks in flight). Queued tasks and
  -- started ones past their deadline (started_at + timeout + 2 s) qualify; the latter without
  -- attempts left ("expired") are failed below instead of claimed.
  SELECT array_agg(c.run_id ORDER BY c.message_id) FILTER (WHERE NOT c.expired),
         array_agg(c.step_slug ORDER BY c.message_id) FILTER (WHERE NOT c.expired),
         array_agg(c.task_index ORDER BY c.message_id) FILTER (WHERE NOT c.expired),
         array_agg(c.timeout ORDER BY c.message_id) FILTER (WHERE NOT c.expired),
         array_agg(c.max_attempts ORDER BY c.message_id) FILTER (WHERE NOT c.expired),
         array_agg(c.timeout_message ORDER BY c.message_id) FILTER (WHERE NOT c.expired),
         array_agg(c.run_id ORDER BY c.message_id) FILTER (WHERE c.expired),
         array_agg(c.step_slug ORDER BY c.message_id) FILTER (WHERE c.expired),
         array_agg(c.task_index ORDER BY c.message_id) FILTER (WHERE c.expired),
         array_agg(c.timeout_message ORDER BY c.message_id) FILTER (WHERE c.expired)
  INTO cand_runs, cand_steps, cand_indexes, cand_timeouts, cand_max_attempts, cand_messages,
       expired_runs, expired_steps, expired_indexes, expired_messages
  FROM (
    SELECT t.run_id, t.step_slug, t.task_index, t.message_id,
           coalesce(s.opt_timeout, f.opt_timeout) AS timeout,
           coalesce(s.opt_max_attempts, f.opt_max_attempts) AS max_attempts,
           t.status = 'started' AND t.attempts_count >= coalesce(s.opt_max_attempts, f.opt_max_attempts) AS expired,
           -- What became of the timed-out attempt, as far as its worker's row tells: workers
           -- heartbeat every 5 s, so one silent for over 10 s is gone (a crash, e.g. in a
           -- handler, or a lost database); one still heartbeating ran the handler past its deadline.
           CASE WHEN t.status = 'started' THEN
             format('Task timed out after %s s: attempt %s', coalesce(s.opt_timeout, f.opt_timeout), t.attempts_count)
             || (SELECT CASE
                          WHEN w.worker_id IS NULL THEN '''s worker is unknown'
                          WHEN w.deprecated_at IS NOT NULL THEN
                            format('''s worker %s stopped %s s ago without reporting it', w.worker_id,
                                   floor(extract(epoch FROM clock_timestamp() - w.deprecated_at)))
                          WHEN w.last_heartbeat_at < clock_timestamp() - interval '10 seconds' THEN
                            format('''s worker %s has sent no heartbeat for %s s: it crashed (a handler may have '
                                   'killed its process) or lost the database', w.worker_id,
                                   floor(extract(epoch FROM clock_timestamp() - w.last_heartbeat_at)))
                          ELSE format(' ran past its deadline on worker %s, which is still heartbeating', w.worker_id)
                        END
                 FROM (SELECT t.last_worker_id) AS held(worker_id)
                 LEFT JOIN pgflow.workers AS w ON w.worker_id = held.worker_id)
           END AS timeout_message
    FROM (SELECT DISTINCT m.id FROM unnest(claim_tasks.msg_ids) AS m(id)) AS m
    CROSS JOIN LATERAL (
      SELECT t.flow_slug, t.run_id, t.step_slug, t.task_index, t.status, t.attempts_count, t.started_at,
             t.message_id, t.last_worker_id
      FROM pgflow.step_tasks AS t
      WHERE t.message_id = m.id
      OFFSET 0
    ) AS t
    JOIN pgflow.runs AS r ON r.run_id = t.run_id
    JOIN pgflow.step_states AS ss ON ss.run_id = t.run_id AND ss.step_slug = t.step_slug
    JOIN pgflow.steps AS s ON s.flow_slug = claim_tasks.flow_slug AND s.step_slug = t.step_slug
    JOIN pgflow.flows AS f ON f.flow_slug = claim_tasks.flow_slug
    -- COLLATE "C" (the same equality): no index on status may stand in for the run's and step's
    -- keys. Planned while few runs had started, r.status = 'started' read idx_runs_status, i.e.
    -- every started run, per claim (tests/sql/claim_run_plans.sql).
    WHERE t.flow_slug = claim_tasks.flow_slug
      AND r.status = 'started' COLLATE "C"
      AND ss.status = 'started' COLLATE "C"
      AND (t.status = 'queued'
           OR (t.status = 'started'
               AND t.started_at + make_interval(secs => coalesce(s.opt_timeout, f.opt_timeout) + 2) <= clock_timestamp()))
  ) AS c;

  -- Timed-out tasks without attempts left fail like a handler failure would. No other task of a
  -- run that this failed is claimed; a step whose when_exhausted skips it lets its run go on, and
  -- the run's other tasks are claimed as usual (their skipped siblings no longer qualify).
  IF expired_runs IS NOT NULL THEN
    FOR i IN 1 .. cardinality(expired_runs) LOOP
      PERFORM pgflow.fail_task(expired_runs[i], expired_steps[i], expired_indexes[i], expired_messages[i]);
    END LOOP;
    expired_runs := ARRAY(SELECT r.run_id FROM pgflow.runs AS r
                          WHERE r.run_id = ANY (expired_runs) AND r.status <> 'started');
  END IF;

  -- A message whose task is still active under a step or run that has ended: a claim or completion
  -- held the task while a skip or a cancellation passed it over (SKIP LOCKED), and its worker then
  -- died. The task ends as its siblings did and its message is archived, so that it does not come
  -- back every visibility timeout. Looked for only when some message was not a candidate (rare:
  -- a running task's message stays hidden until its deadline).
  IF coalesce(cardinality(cand_runs), 0) + coalesce(cardinality(expired_steps), 0) < cardinality(claim_tasks.msg_ids) THEN
    WITH stale AS (
      UPDATE pgflow.step_tasks AS t
      SET status = CASE WHEN r.status = 'failed' THEN 'cancelled' ELSE 'skipped' END
      FROM pgflow.runs AS r, pgflow.step_states AS ss
      WHERE t.message_id = ANY (claim_tasks.msg_ids) AND t.flow_slug = claim_tasks.flow_slug
        AND t.status IN ('queued', 'started')
        AND r.run_id = t.run_id AND ss.run_id = t.run_id AND ss.step_slug = t.step_slug
        AND (r.status = 'failed' OR ss.status IN ('skipped', 'failed'))
      RETURNING t.message_id)
    SELECT array_agg(st.message_id) INTO stale_messages FROM stale AS st;
    IF stale_messages IS NOT NULL THEN
      PERFORM pgmq.archive(claim_tasks.flow_slug, stale_messages);
    END IF;
  END IF;
  -- Step limits (pgflow_cpp.set_step_limits): candidates over a concurrency or rate limit stay
  -- queued (their messages are shown again shortly). One index probe for an unlimited flow.
  IF cand_runs IS NOT NULL
     AND EXISTS (SELECT 1 FROM pgflow_cpp.step_limits AS sl
                 WHERE sl.flow_slug = claim_tasks.flow_slug AND sl.step_slug = ANY (cand_steps)) THEN
    SELECT array_agg(c.run_id ORDER BY c.ord), array_agg(c.step_slug ORDER BY c.ord),
           array_agg(c.task_index ORDER BY c.ord), array_agg(c.timeout ORDER BY c.ord),
           array_agg(c.max_attempts ORDER BY c.ord), array_agg(c.timeout_message ORDER BY c.ord)
    INTO cand_runs, cand_steps, cand_indexes, cand_timeouts, cand_max_attempts, cand_messages
    FROM unnest(cand_runs, cand_steps, cand_indexes, cand_timeouts, cand_max_attempts, cand_messages,
                pgflow_cpp._admit_tasks(claim_tasks.flow_slug, cand_runs, cand_steps, cand_indexes))
           WITH ORDINALITY AS c(run_id, step_slug, task_index, timeout, max_attempts, timeout_message, admitted, ord)
    WHERE c.admitted;
  END IF;
  IF cand_runs IS NULL THEN
    RETURN;
  END IF;

  -- The claim, by primary key. The conditions are checked again under each row lock, so of two
  -- sessions claiming the same message only one gets the task (the other finds it started).
  -- A cached plan: enable_seqscan = off (set on this function) keeps it a primary-key probe per
  -- task even when it was planned while the table was small or never analyzed. COLLATE "C": the
  -- same equality, but no partial index on status may stand in for the key (see complete_task).
  WITH claimed AS (
    UPDATE pgflow.step_tasks AS t
    SET attempts_count = t.attempts_count + 1,
        status = 'started',
        started_at = greatest(now(), t.queued_at),
        last_worker_id = claim_tasks.worker_id,
        error_message = CASE WHEN t.status = 'started' THEN c.timeout_message ELSE t.error_message END
    FROM unnest(cand_runs, cand_steps, cand_indexes, cand_timeouts, cand_max_attempts, cand_messages)
           AS c(run_id, step_slug, task_index, timeout, max_attempts, timeout_message)
    WHERE t.run_id = c.run_id
      AND t.step_slug = c.step_slug
      AND t.task_index = c.task_index
      AND c.run_id <> ALL (coalesce(expired_runs, '{}'))
      AND (t.status = 'queued' COLLATE "C"
           OR (t.status = 'started' COLLATE "C"
               AND t.started_at + make_interval(secs => c.timeout + 2) <= clock_timestamp()
               AND t.attempts_count < c.max_attempts))
    RETURNING t.run_id, t.step_slug, t.task_index, t.message_id, c.timeout + 2 AS vt
  )
  SELECT array_agg(c.run_id ORDER BY c.message_id), array_agg(c.step_slug ORDER BY c.message_id),
         array_agg(c.task_index ORDER BY c.message_id), array_agg(c.message_id ORDER BY c.message_id),
         array_agg(c.vt ORDER BY c.message_id)
  INTO claimed_runs, claimed_steps, claimed_indexes, claimed_msgs, claimed_vts
  FROM claimed AS c;

  IF claimed_msgs IS NULL THEN
    RETURN;
  END IF;

  IF claim_tasks.hide_messages THEN
    PERFORM pgflow.set_vt_batch(claim_tasks.flow_slug, claimed_msgs, claimed_vts);
  END IF;

  RETURN QUERY
  WITH claimed AS (
    SELECT c.run_id, c.step_slug, c.task_index, c.msg_id,
           s.step_type, s.deps_count
    FROM unnest(claimed_runs, claimed_steps, claimed_indexes, claimed_msgs)
           AS c(run_id, step_slug, task_index, msg_id)
    JOIN pgflow.steps AS s ON s.flow_slug = claim_tasks.flow_slug AND s.step_slug = c.step_slug
  ),
  -- The array a map task takes its element from: the run input for a root map, the output of the
  -- single dependency otherwise. Fetched once per (run, step) and materialized so that a large
  -- (TOASTed) array is decompressed once rather than once per task ("|| '[]'" forces that copy).
  map_sources AS MATERIALIZED (
    SELECT g.run_id, g.step_slug, g.parent_type, k.chunked,
           CASE WHEN jsonb_typeof(src.arr) = 'array' THEN src.arr || '[]'::jsonb END AS arr,
           -- A large array (as stored: pg_column_size does not detoast) is copied into chunks once,
           -- for the next claims to read by index (0228_map_input_chunks.sql).
           CASE WHEN pg_column_size(src.arr) >= 65536 THEN pgflow_cpp.chunk_map_input(g.run_id, g.step_slug, src.arr) END
             AS chunks_made
    FROM (
      SELECT DISTINCT c.run_id, c.step_slug, c.deps_count, d.dep_slug, p.step_type AS parent_type
      FROM claimed AS c
      LEFT JOIN pgflow.deps AS d ON d.flow_slug = claim_tasks.flow_slug AND d.step_slug = c.step_slug
      LEFT JOIN pgflow.steps AS p ON p.flow_slug = claim_tasks.flow_slug AND p.step_slug = d.dep_slug
      WHERE c.step_type = 'map'
    ) AS g
    CROSS JOIN LATERAL (
      SELECT EXISTS (SELECT 1 FROM pgflow_cpp.map_input_chunks AS mc
                     WHERE mc.run_id = g.run_id AND mc.step_slug = g.step_slug) AS chunked
      OFFSET 0
    ) AS k
    CROSS JOIN LATERAL (
      SELECT CASE
               WHEN k.chunked THEN NULL
               WHEN g.deps_count = 0 THEN (SELECT r.input FROM pgflow.runs AS r WHERE r.run_id = g.run_id)
               WHEN g.parent_type = 'single' THEN pgflow_cpp.step_output(g.run_id, g.dep_slug, 'single')
             END AS arr
      OFFSET 0  -- fetched once, not once per use of src.arr
    ) AS src
  ),
  -- Single steps get {"run": input, <dep>: <dep output>...} over the dependencies that completed (a
  -- skipped one has no key: pgflow 0.14; a map dependency's output is the array of its completed
  -- tasks' outputs by task_index, [] when it had none).
  single_inputs AS MATERIALIZED (
    SELECT c.run_id, c.step_slug,
           jsonb_build_object('run', r.input) || coalesce((
             SELECT json_object_agg(d.dep_slug, pgflow_cpp.step_output(c.run_id, d.dep_slug, p.step_type))::jsonb
             FROM pgflow.deps AS d
             JOIN pgflow.steps AS p ON p.flow_slug = d.flow_slug AND p.step_slug = d.dep_slug
             JOIN pgflow.step_states AS ds ON ds.run_id = c.run_id AND ds.step_slug = d.dep_slug
             WHERE d.flow_slug = claim_tasks.flow_slug AND d.step_slug = c.step_slug
               AND ds.status = 'completed'
           ), '{}'::jsonb) AS input
    FROM (SELECT DISTINCT claimed.run_id, claimed.step_slug FROM claimed WHERE claimed.step_type = 'single') AS c
    JOIN pgflow.runs AS r ON r.run_id = c.run_id
  )
  SELECT claim_tasks.flow_slug, c.run_id, c.step_slug,
         CASE
           WHEN c.step_type = 'single' THEN si.input
           WHEN ms.parent_type = 'map' THEN
             -- A map over a map: element i of the parent's aggregated output is its task i's output
             -- (found by its key; COLLATE "C" as in complete_task, not by a scan of the parent's
             -- completed tasks).
             coalesce((SELECT pt.output FROM pgflow.step_tasks AS pt
                       JOIN pgflow.deps AS d ON d.flow_slug = claim_tasks.flow_slug AND d.step_slug = c.step_slug
                       WHERE pt.run_id = c.run_id AND pt.step_slug = d.dep_slug
                         AND pt.task_index = c.task_index AND pt.status = 'completed' COLLATE "C"),
                      'null'::jsonb)
           WHEN ms.chunked THEN
             (SELECT jsonb_array_element(mc.elements, c.task_index % 100) FROM pgflow_cpp.map_input_chunks AS mc
              WHERE mc.run_id = c.run_id AND mc.step_slug = c.step_slug AND mc.chunk = c.task_index / 100)
           ELSE jsonb_array_element(ms.arr, c.task_index)
         END,
         c.msg_id, c.task_index
  FROM claimed AS c
  LEFT JOIN single_inputs AS si ON si.run_id = c.run_id AND si.step_slug = c.step_slug
  LEFT JOIN map_sources AS ms ON ms.run_id = c.run_id AND ms.step_slug = c.step_slug
  ORDER BY c.msg_id;
END;
$$;

CREATE OR REPLACE FUNCTION pgflow.start_tasks(flow_slug text, msg_ids bigint[], worker_id uuid)
RETURNS SETOF pgflow.step_task_record
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
BEGIN
  RETURN QUERY SELECT * FROM pgflow_cpp.claim_tasks(start_tasks.flow_slug, start_tasks.msg_ids, start_tasks.worker_id, true);
END;
$$;
