-- pgflow_cpp._read_messages(flow_slug, vt, qty) -> bigint[]
-- The read of pgflow_cpp.read_and_start_tasks: up to qty visible messages of the flow's queue,
-- hidden for vt seconds (read_ct + 1, as pgmq.read), their ids in ascending order (NULL when none).
--   * Priorities: while some unfinished run of the flow has one (pgflow_cpp.run_priorities), the
--     messages are taken by effective priority, highest first: the run's priority (0 without a
--     row) plus 1 per 10 s the message has waited since it was sent (aging: a low priority is
--     never starved for ever); then runs interleaved (each run's oldest message first); then
--     message id. The candidates are the oldest max(8 * qty, 100) visible messages and the
--     oldest qty visible messages of each run with a priority above 0 (found through its queued
--     tasks), so the read costs O(that window + qty * such runs), not O(backlog); a negative
--     priority only puts its tasks after others within that window of oldest messages.
--   * Otherwise pgmq.read (FIFO by message id), and one fairness rule: when the whole batch is
--     the tasks of one map step of one run (a fan-out larger than the batch), up to half of it is
--     taken instead from the messages sent after that map's last task (later runs' tasks, other
--     steps), so a big map does not hold back every run started after it: claims interleave.
--     Costs two primary-key probes and one index range scan, only for such a batch.
CREATE OR REPLACE FUNCTION pgflow_cpp._read_messages(flow_slug text, vt integer, qty integer)
RETURNS bigint[]
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
-- No SET of its own: it runs with read_and_start_tasks' enable_seqscan = off, which keeps
-- pgmq.read's statement a walk of the queue's primary key (a sort of the whole queue otherwise,
-- on a table whose statistics make a scan look cheap), and every statement below reaches its
-- rows through an index (none is planned as a disabled scan, whose huge estimate would turn JIT on).
AS $$
DECLARE
  queue constant text := pgmq.format_table_name(_read_messages.flow_slug, 'q');
  batch bigint[];
  batch_runs uuid[];
  batch_steps text[];
  last_msg bigint;
  later bigint[];
BEGIN
  IF EXISTS (SELECT 1 FROM pgflow_cpp.run_priorities AS p WHERE p.flow_slug = _read_messages.flow_slug) THEN
    EXECUTE format(
      $SQL$
      WITH oldest AS (
        SELECT q.msg_id, q.enqueued_at, q.message->>'run_id' AS run
        FROM pgmq.%1$I AS q
        WHERE q.vt <= clock_timestamp()
        ORDER BY q.msg_id
        LIMIT $3
      ),
      prioritized AS (
        SELECT m.msg_id, m.enqueued_at, m.run
        FROM pgflow_cpp.run_priorities AS p
        CROSS JOIN LATERAL (
          SELECT q.msg_id, q.enqueued_at, q.message->>'run_id' AS run
          FROM pgflow.step_tasks AS t
          JOIN pgmq.%1$I AS q ON q.msg_id = t.message_id
          WHERE t.run_id = p.run_id AND t.status = 'queued' AND q.vt <= clock_timestamp()
          ORDER BY t.message_id
          LIMIT $1
        ) AS m
        WHERE p.flow_slug = $4 AND p.priority > 0
      ),
      ranked AS (
        SELECT c.msg_id,
               coalesce(p.priority, 0) + floor(extract(epoch FROM clock_timestamp() - c.enqueued_at) / 10) AS effective,
               row_number() OVER (PARTITION BY c.run ORDER BY c.msg_id) AS turn
        FROM (SELECT * FROM oldest UNION SELECT * FROM prioritized) AS c
        LEFT JOIN pgflow_cpp.run_priorities AS p ON p.run_id = c.run::uuid
      ),
      -- Only the messages taken are locked (in rank order, passing over those another claim holds).
      -- "= ANY (the candidates)" repeats the join so that the plan probes the queue's primary key
      -- per candidate instead of merging with a walk of the whole queue.
      picked AS (
        SELECT q.msg_id
        FROM ranked AS r
        JOIN pgmq.%1$I AS q ON q.msg_id = r.msg_id
        WHERE q.msg_id = ANY (ARRAY(SELECT c.msg_id FROM ranked AS c)) AND q.vt <= clock_timestamp()
        ORDER BY r.effective DESC, r.turn, q.msg_id
        LIMIT $1
        FOR UPDATE OF q SKIP LOCKED
      ),
      shown AS (
        UPDATE pgmq.%1$I AS q
        SET vt = clock_timestamp() + make_interval(secs => $2), read_ct = q.read_ct + 1
        FROM picked
        WHERE q.msg_id = picked.msg_id
        RETURNING q.msg_id
      )
      SELECT array_agg(s.msg_id ORDER BY s.msg_id) FROM shown AS s
      $SQL$, queue)
    INTO batch
    USING _read_messages.qty, _read_messages.vt, greatest(8 * _read_messages.qty, 100), _read_messages.flow_slug;
    RETURN batch;
  END IF;

  SELECT array_agg(m.msg_id ORDER BY m.msg_id),
         array_agg(DISTINCT (m.message->>'run_id')::uuid), array_agg(DISTINCT m.message->>'step_slug')
  INTO batch, batch_runs, batch_steps
  FROM pgmq.read(_read_messages.flow_slug, _read_messages.vt, _read_messages.qty) AS m;
  IF batch IS NULL OR _read_messages.qty < 2 OR cardinality(batch) < _read_messages.qty
     OR cardinality(batch_runs) <> 1 OR cardinality(batch_steps) <> 1 THEN
    RETURN batch;
  END IF;

  -- One run's map: its last task's message (a step's messages are sent in one batch, in order).
  SELECT t.message_id INTO last_msg
  FROM pgflow.step_states AS ss
  JOIN pgflow.step_tasks AS t
    ON t.run_id = ss.run_id AND t.step_slug = ss.step_slug AND t.task_index = ss.initial_tasks - 1
  WHERE ss.run_id = batch_runs[1] AND ss.step_slug = batch_steps[1];
  IF last_msg IS NULL OR last_msg <= batch[cardinality(batch)] THEN
    RETURN batch;
  END IF;

  EXECUTE format(
    $SQL$
    WITH picked AS (
      SELECT q.msg_id FROM pgmq.%1$I AS q
      WHERE q.msg_id > $1 AND q.vt <= clock_timestamp()
      ORDER BY q.msg_id
      LIMIT $2
      FOR UPDATE SKIP LOCKED
    ),
    shown AS (
      UPDATE pgmq.%1$I AS q
      SET vt = clock_timestamp() + make_interval(secs => $3), read_ct = q.read_ct + 1
      FROM picked
      WHERE q.msg_id = picked.msg_id
      RETURNING q.msg_id
    )
    SELECT array_agg(s.msg_id ORDER BY s.msg_id) FROM shown AS s
    $SQL$, queue)
  INTO later
  USING last_msg, _read_messages.qty / 2, _read_messages.vt;
  IF later IS NULL THEN
    RETURN batch;
  END IF;

  -- The map's newest messages of the batch go back, visible at once, as if never read.
  EXECUTE format(
    $SQL$
    UPDATE pgmq.%1$I AS q
    SET vt = clock_timestamp(), read_ct = greatest(q.read_ct - 1, 0)
    WHERE q.msg_id = ANY ($1)
    $SQL$, queue)
  USING batch[cardinality(batch) - cardinality(later) + 1:];
  RETURN batch[1:cardinality(batch) - cardinality(later)] || later;
END;
$$;
