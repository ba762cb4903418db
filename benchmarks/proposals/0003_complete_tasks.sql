-- Proposal 0003 (speed): pgflow.complete_tasks — complete a batch of tasks in one call.
--
-- pgflow.complete_tasks(run_ids uuid[], step_slugs text[], task_indexes integer[], outputs jsonb[])
--   -> integer
-- Same effect as calling pgflow.complete_task(run_ids[i], step_slugs[i], task_indexes[i],
-- outputs[i]) for every i, in one transaction; returns how many of the tasks it completed.
-- Additive: pgflow 0.8.1's API is untouched, complete_task stays the one-task form.
--
-- Why: a worker that finishes ten tasks today pays ten plpgsql calls of complete_task, each with
-- its own statements, row locks on the step's step_states row, archive call and (outside a
-- transaction) commit. For a map step, nine of those ten calls only decrement remaining_tasks.
-- This function does that part set-based: one UPDATE of step_tasks for the batch, one UPDATE of
-- step_states per (run, step), one pgmq.archive per flow. A task that completes its step (the last
-- one of a map step, every single-step task) still goes through complete_task, so step
-- completion, dependents, type violations, events, cascades, start_ready_steps and run completion
-- keep exactly one implementation.
-- Locks: the step_states rows of the batch are locked first, in (run_id, step_slug) order, so two
-- concurrent batches cannot deadlock on them.
-- Errors: arrays of different lengths raise 'complete_tasks: run_ids, step_slugs, task_indexes
-- and outputs must have the same length (…)'. A worker must retry a batch that failed with a
-- serialization failure or deadlock (SQLSTATE 40001 / 40P01) rather than fail its tasks.
-- When sql/ already has pgflow.complete_tasks (sql/pgflow/0245_complete_tasks.sql), that one is kept.
SELECT to_regprocedure('pgflow.complete_tasks(uuid[], text[], integer[], jsonb[])') IS NULL AS pgflow_bench_define_batch \gset
\if :pgflow_bench_define_batch
CREATE OR REPLACE FUNCTION pgflow.complete_tasks(run_ids uuid[], step_slugs text[], task_indexes integer[],
                                                 outputs jsonb[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  n integer := coalesce(cardinality(complete_tasks.run_ids), 0);
  bulk_runs uuid[];
  bulk_steps text[];
  bulk_indexes integer[];
  bulk_outputs jsonb[];
  rest_runs uuid[];
  rest_steps text[];
  rest_indexes integer[];
  rest_outputs jsonb[];
  done_flows text[];
  done_messages bigint[];
  completed integer := 0;
  archive record;
BEGIN
  IF n = 0 THEN
    RETURN 0;
  END IF;
  IF coalesce(cardinality(complete_tasks.step_slugs), 0) <> n OR coalesce(cardinality(complete_tasks.task_indexes), 0) <> n
     OR coalesce(cardinality(complete_tasks.outputs), 0) <> n THEN
    RAISE EXCEPTION 'complete_tasks: run_ids, step_slugs, task_indexes and outputs must have the same length (%, %, %, %)',
      n, coalesce(cardinality(complete_tasks.step_slugs), 0), coalesce(cardinality(complete_tasks.task_indexes), 0),
      coalesce(cardinality(complete_tasks.outputs), 0);
  END IF;

  -- Step states first, in a fixed order: what every concurrent completion of these steps waits on.
  PERFORM 1
  FROM pgflow.step_states AS ss
  WHERE (ss.run_id, ss.step_slug) IN (SELECT u.r, u.s FROM unnest(complete_tasks.run_ids, complete_tasks.step_slugs) AS u(r, s))
  ORDER BY ss.run_id, ss.step_slug
  FOR NO KEY UPDATE;

  -- Bulk: started tasks of started steps of runs that have not failed, except, for a step whose
  -- remaining tasks are all in this batch, the last of them (it completes the step). The rest,
  -- in batch order, goes through complete_task.
  SELECT array_agg(b.run_id) FILTER (WHERE b.bulk), array_agg(b.step_slug) FILTER (WHERE b.bulk),
         array_agg(b.task_index) FILTER (WHERE b.bulk), array_agg(b.output) FILTER (WHERE b.bulk),
         array_agg(b.run_id ORDER BY b.ord) FILTER (WHERE NOT b.bulk),
         array_agg(b.step_slug ORDER BY b.ord) FILTER (WHERE NOT b.bulk),
         array_agg(b.task_index ORDER BY b.ord) FILTER (WHERE NOT b.bulk),
         array_agg(b.output ORDER BY b.ord) FILTER (WHERE NOT b.bulk)
  INTO bulk_runs, bulk_steps, bulk_indexes, bulk_outputs, rest_runs, rest_steps, rest_indexes, rest_outputs
  FROM (
    SELECT c.*,
           c.eligible AND NOT (c.pending_in_batch = c.remaining_tasks AND c.rank_in_step = c.pending_in_batch) AS bulk
    FROM (
      SELECT u.ord, u.run_id, u.step_slug, u.task_index, u.output, ss.remaining_tasks,
             coalesce(t.status = 'started' AND ss.status = 'started' AND r.status <> 'failed' AND u.first_of_task,
                      false) AS eligible,
             count(*) FILTER (WHERE t.status = 'started' AND u.first_of_task)
               OVER (PARTITION BY u.run_id, u.step_slug) AS pending_in_batch,
             count(*) FILTER (WHERE t.status = 'started' AND u.first_of_task)
               OVER (PARTITION BY u.run_id, u.step_slug ORDER BY u.ord) AS rank_in_step
      FROM (
        SELECT x.*,
               row_number() OVER (PARTITION BY x.run_id, x.step_slug, x.task_index ORDER BY x.ord) = 1 AS first_of_task
        FROM unnest(complete_tasks.run_ids, complete_tasks.step_slugs, complete_tasks.task_indexes,
                    complete_tasks.outputs) WITH ORDINALITY AS x(run_id, step_slug, task_index, output, ord)
      ) AS u
      LEFT JOIN pgflow.step_tasks AS t
        ON t.run_id = u.run_id AND t.step_slug = u.step_slug AND t.task_index = u.task_index
      LEFT JOIN pgflow.step_states AS ss ON ss.run_id = u.run_id AND ss.step_slug = u.step_slug
      LEFT JOIN pgflow.runs AS r ON r.run_id = u.run_id
    ) AS c
  ) AS b;

  IF bulk_runs IS NOT NULL THEN
    WITH done AS (
      UPDATE pgflow.step_tasks AS t
      SET status = 'completed', completed_at = now(), output = b.output
      FROM unnest(bulk_runs, bulk_steps, bulk_indexes, bulk_outputs) AS b(run_id, step_slug, task_index, output)
      WHERE t.run_id = b.run_id AND t.step_slug = b.step_slug AND t.task_index = b.task_index
        AND t.status = 'started'
      RETURNING t.flow_slug, t.run_id, t.step_slug, t.message_id
    ),
    counted AS (
      UPDATE pgflow.step_states AS ss
      SET remaining_tasks = ss.remaining_tasks - p.k
      FROM (SELECT d.run_id, d.step_slug, count(*)::integer AS k FROM done AS d GROUP BY d.run_id, d.step_slug) AS p
      WHERE ss.run_id = p.run_id AND ss.step_slug = p.step_slug
      RETURNING p.k
    )
    SELECT (SELECT coalesce(sum(c.k), 0) FROM counted AS c),
           array_agg(d.flow_slug) FILTER (WHERE d.message_id IS NOT NULL),
           array_agg(d.message_id) FILTER (WHERE d.message_id IS NOT NULL)
    INTO completed, done_flows, done_messages
    FROM done AS d;

    FOR archive IN
      SELECT m.flow_slug, array_agg(m.message_id ORDER BY m.message_id) AS ids
      FROM unnest(done_flows, done_messages) AS m(flow_slug, message_id)
      GROUP BY m.flow_slug
    LOOP
      PERFORM pgmq.archive(archive.flow_slug, archive.ids);
    END LOOP;
  END IF;

  IF rest_runs IS NOT NULL THEN
    FOR i IN 1 .. cardinality(rest_runs) LOOP
      IF EXISTS (SELECT 1 FROM pgflow.complete_task(rest_runs[i], rest_steps[i], rest_indexes[i], rest_outputs[i]) AS t
                 WHERE t.status = 'completed' AND t.completed_at = now()) THEN
        completed := completed + 1;
      END IF;
    END LOOP;
  END IF;

  RETURN completed;
END;
$$;
\else
\echo proposal 0003: pgflow.complete_tasks is already in sql/, kept
\endif
