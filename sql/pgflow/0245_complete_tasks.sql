-- pgflow.complete_tasks(run_ids, step_slugs, task_indexes, outputs) -> setof pgflow.step_tasks
-- (Addition: not in pgflow 0.8.1.) Completes a batch of tasks in one call with the effect of
-- pgflow.complete_task(run_ids[i], step_slugs[i], task_indexes[i], outputs[i]) for i = 1..n in
-- that order: the same rows, counters, type violations, cascades, started steps, events (each
-- run's in the same order) and run completions. Returns, in input order, the rows those calls
-- would return: the task row for each element (for a type violation the failed task: pgflow
-- 0.14), nothing for an element that names no task. Empty or NULL arrays complete nothing.
-- How: a started task of a started step that does not complete its step (a map task with others
-- still to come) only counts down; such tasks are completed here set-wise (one UPDATE of them by
-- key, one archive call per flow, one counter update per step, no events), unless an earlier
-- element of the batch may fail their run (one that may complete its step with a type violation,
-- an empty array for a dependent map, or a dependent with a condition, which fails the run or
-- skips toward conditions that may: also the first count-down of such a step, whose last one
-- completed set-wise is put back to complete it when other sessions completed the rest meanwhile
-- (the step's own count-downs stay set-wise); for a subflow's child run, such an element of any
-- run with children, whose failure cancels them): one at a time the task would find its run
-- failed. So are the elements
-- that end their run (final): the task of a single step nobody depends on that is its run's last
-- step, the batch's only element of its run, in a flow without run limits and a run that is not
-- a subflow's child (whose end concerns other runs); their steps and runs complete in one UPDATE
-- each, and their events (step:completed, then run:completed) are sent in batch order, before
-- the events of the elements that go through complete_task; the slots of their tasks under a
-- step concurrency limit are freed at the end, with the bulk elements' (complete_task frees a
-- task's before its events: only the order of notifications on different channels differs).
-- So are the elements that hand their run on (continuing): the last task of a single step whose
-- dependents are all single handler or sleep steps without conditions, in a run with more steps
-- left than it has such elements that is not a subflow's child run (whose cancellation by an
-- earlier element's failure of its parent must come first), every element of that run in the
-- batch being one; their steps,
-- runs and dependents are counted and the dependents left ready started by
-- pgflow_cpp._continue_runs (its events after the final elements', each element's step:completed
-- followed by the step:started of the dependents it started). The final and the continuing paths
-- are taken for two or more elements each (for one, complete_task costs less), and a batch of one
-- element is complete_task's call.
-- Every other element goes through complete_task in batch order. A run with an element that
-- could be a type violation (a single step's non-array output where a map depends on it) goes
-- through complete_task entirely, in order, so nothing of it after the violation is completed.
-- Locks, in one global order whatever the order of the input (as complete_task, which takes the
-- same kinds of rows in the same order): the tasks completed set-wise, then the started tasks of
-- the elements that go through complete_task in key order (a duplicate completion of one of them
-- by another session must not find the batch holding its step); the batch's step_states
-- rows in (run_id, step_slug) order; the runs rows of the final and continuing elements and of
-- those that go through complete_task, in run_id order; then, in _continue_runs and complete_task,
-- rows of steps not yet started,
-- which only the holder of their run's row changes. So two batches (or a batch and
-- complete_task) completing tasks of the same runs wait for each other instead of deadlocking.
-- The step_states rows are locked as late as possible, after the set-wise task updates and
-- archiving, because every batch of a map step waits for that row until the previous batch
-- commits. Which tasks only count down is decided from the unlocked counter first (it only
-- decreases, so a task it shows as completing its step does) and checked under the lock: the
-- step's last task of the batch, when it turns out to complete the step, is put back and goes
-- through complete_task like the rest.
-- Errors: 'complete_tasks: run_ids, step_slugs, task_indexes and outputs must be one-dimensional
-- arrays of the same length (got <a>, <b>, <c>, <d>)'. Any error raised while completing an
-- element (e.g. deadlock_detected, serialization_failure, a statement timeout) aborts the call
-- as a whole: nothing of the batch is kept.
CREATE OR REPLACE FUNCTION pgflow.complete_tasks(run_ids uuid[], step_slugs text[], task_indexes integer[],
                                                 outputs jsonb[])
RETURNS SETOF pgflow.step_tasks
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
-- Generic plans that reach rows by key whatever the statistics say: re-planning the statements per
-- call for their parameters (what plan_cache_mode auto chose, every time) cost 0.25-0.35 ms per
-- call each for the array-building statements. enable_seqscan = off keeps the cached bulk UPDATE
-- a primary-key probe per task even when it was planned while step_tasks was small (as in
-- start_tasks; sql.claim_plans checks both).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
  n integer := coalesce(cardinality(complete_tasks.run_ids), 0);
  bulk_ords bigint[];
  final_ords bigint[];
  cont_ords bigint[];
  rest_ords bigint[];
  moved_ords bigint[];
  put_back_ords bigint[];
  rest_rows pgflow.step_tasks[];
  rest_row pgflow.step_tasks;
  split_runs uuid[];
  emitted boolean[];
  done_flows text[];
  done_runs uuid[];
  done_steps text[];
  done_messages bigint[];
  done_ords bigint[];
  remaining integer;
  counted integer;
  step record;
  step_status text;
  archive record;
  i bigint;
BEGIN
  IF coalesce(array_ndims(complete_tasks.run_ids), 1) <> 1 OR coalesce(array_ndims(complete_tasks.step_slugs), 1) <> 1
     OR coalesce(array_ndims(complete_tasks.task_indexes), 1) <> 1 OR coalesce(array_ndims(complete_tasks.outputs), 1) <> 1
     OR coalesce(cardinality(complete_tasks.step_slugs), 0) <> n OR coalesce(cardinality(complete_tasks.task_indexes), 0) <> n
     OR coalesce(cardinality(complete_tasks.outputs), 0) <> n THEN
    RAISE EXCEPTION 'complete_tasks: run_ids, step_slugs, task_indexes and outputs must be one-dimensional arrays of the same length (got %, %, %, %)',
      n, coalesce(cardinality(complete_tasks.step_slugs), 0), coalesce(cardinality(complete_tasks.task_indexes), 0),
      coalesce(cardinality(complete_tasks.outputs), 0)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF n = 0 THEN
    RETURN;
  END IF;
  -- One element is complete_task's call, without the classification below (0.25-0.3 ms of CPU
  -- for a lone completion, the common case under a stream of starts: benchmarks/sql/call_costs.sh).
  IF n = 1 THEN
    RETURN QUERY SELECT * FROM pgflow.complete_task(complete_tasks.run_ids[1], complete_tasks.step_slugs[1],
                                                    complete_tasks.task_indexes[1], complete_tasks.outputs[1]);
    RETURN;
  END IF;
  emitted := array_fill(false, ARRAY[n]);

  -- Which elements may only count down (bulk) and which go through complete_task (rest): of a
  -- step's started tasks in the batch, the first remaining_tasks - 1 (in batch order) are bulk.
  -- remaining_tasks is read without a lock here and checked under it below.
  SELECT array_agg(c.ord ORDER BY c.ord) FILTER (WHERE c.bulk),
         array_agg(c.ord ORDER BY c.ord) FILTER (WHERE c.final),
         array_agg(c.ord ORDER BY c.ord) FILTER (WHERE c.cont),
         array_agg(c.ord ORDER BY c.ord) FILTER (WHERE NOT c.bulk AND NOT c.final AND NOT c.cont)
  INTO bulk_ords, final_ords, cont_ords, rest_ords
  FROM (
    SELECT f.ord,
           coalesce(f.counts_down AND NOT f.risky_run AND NOT f.run_failed_before
                    AND NOT (f.child_run AND f.batch_failed_before), false) AS bulk,
           coalesce(f.ends_run AND f.run_elements = 1, false) AS final,
           coalesce(f.all_continue AND f.remaining_steps > f.run_elements, false) AS cont
    FROM (
      -- A count-down must not come before an earlier element of the batch that can fail its run
      -- (one-by-one that element fails the run first, and the task is cancelled, not counted): an
      -- element that may complete its step with a possible type violation, an empty array for a
      -- dependent map (the taskless cascade then reaches conditions further on) or a dependent
      -- with a condition (unmet, it fails the run, or skips the dependent and reaches conditions
      -- further on); a failed run cancels its child runs
      -- (theirs too), so a subflow child's count-down also stays behind such an element of any run
      -- that has children. A count-down can complete its step too: the step's last one in the
      -- batch is put back under the lock below when other sessions completed the step's other
      -- tasks meanwhile (any of them: they may all be completed twice). So for a step whose
      -- completion may fail the run, its first count-down may; the run's elements after it go
      -- through complete_task, but for the step's own count-downs: the one put back is the last of
      -- them completed set-wise, so those counted before it precede it in the batch, and none is
      -- counted after it. (A count-down that goes through complete_task comes after an element
      -- that may fail the run, and so do the step's count-downs after it.)
      SELECT e.*,
             coalesce(bool_or(e.may_fail_run AND NOT e.counts_down)
                        OVER (PARTITION BY e.run_id ORDER BY e.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
             OR count(*) FILTER (WHERE e.may_fail_run AND e.counts_down)
                  OVER (PARTITION BY e.run_id ORDER BY e.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                > count(*) FILTER (WHERE e.may_fail_run AND e.counts_down)
                    OVER (PARTITION BY e.run_id, e.step_slug ORDER BY e.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS run_failed_before,
             coalesce(bool_or(e.may_fail_run AND EXISTS (SELECT 1 FROM pgflow_cpp.run_control AS k
                                                         WHERE k.parent_run_id = e.run_id))
                        OVER (ORDER BY e.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
               AS batch_failed_before
      FROM (
        SELECT g.*, cd.counts_down,
               CASE WHEN cd.counts_down THEN g.conditional AND g.rank_in_step = 1
                    ELSE g.risky OR g.empties_map OR g.conditional END AS may_fail_run
        FROM (
          SELECT d.*,
                 count(*) FILTER (WHERE d.countable) OVER (PARTITION BY d.run_id, d.step_slug ORDER BY d.ord) AS rank_in_step,
                 bool_and(d.continues_run) OVER (PARTITION BY d.run_id) AS all_continue,
                 bool_or(d.risky) OVER (PARTITION BY d.run_id) AS risky_run,
                 count(*) OVER (PARTITION BY d.run_id) AS run_elements
          FROM (
        SELECT u.ord, u.run_id, u.step_slug, ss.remaining_tasks, r.remaining_steps, rc.run_id IS NOT NULL AS child_run,
               coalesce(u.first_of_task AND t.status = 'started' AND ss.status = 'started' AND r.status <> 'failed',
                        false) AS countable,
               -- A final element (see How above), read without locks here and checked under them below.
               coalesce(u.first_of_task AND t.status = 'started' AND ss.status = 'started' AND ss.remaining_tasks = 1
                        AND r.status = 'started' AND r.remaining_steps = 1 AND s.step_type = 'single'
                        AND NOT EXISTS (SELECT 1 FROM pgflow.deps AS d
                                        WHERE d.flow_slug = r.flow_slug AND d.dep_slug = u.step_slug)
                        AND NOT EXISTS (SELECT 1 FROM pgflow_cpp.flow_limits AS fl WHERE fl.flow_slug = r.flow_slug)
                        AND rc.run_id IS NULL,
                        false) AS ends_run,
               -- A continuing element (see How above), read without locks here and checked under them
               -- below. Its dependents are plain: single handler or sleep steps without conditions, so
               -- that completing it starts them and nothing else (no map learns its size, no type
               -- check, no condition to evaluate, no task waits for a signal or a child run).
               coalesce(u.first_of_task AND t.status = 'started' AND ss.status = 'started' AND ss.remaining_tasks = 1
                        AND r.status = 'started' AND s.step_type = 'single'
                        AND EXISTS (SELECT 1 FROM pgflow.deps AS d
                                    WHERE d.flow_slug = r.flow_slug AND d.dep_slug = u.step_slug)
                        AND NOT EXISTS (SELECT 1 FROM pgflow.deps AS d
                                        JOIN pgflow.steps AS child
                                          ON child.flow_slug = d.flow_slug AND child.step_slug = d.step_slug
                                        LEFT JOIN pgflow_cpp.step_kinds AS k
                                          ON k.flow_slug = d.flow_slug AND k.step_slug = d.step_slug
                                        WHERE d.flow_slug = r.flow_slug AND d.dep_slug = u.step_slug
                                          AND (child.step_type <> 'single' OR child.required_input_pattern IS NOT NULL
                                               OR child.forbidden_input_pattern IS NOT NULL
                                               OR coalesce(k.kind IN ('signal', 'subflow'), false)))
                        -- Not a subflow's child run: an element before it in the batch that fails its
                        -- parent (complete_task) cancels it, which must come before its continuation.
                        AND rc.run_id IS NULL,
                        false) AS continues_run,
               -- complete_task's type check, without the dependent's initial_tasks (conservative).
               coalesce(fm.feeds_map AND (u.output IS NULL OR jsonb_typeof(u.output) <> 'array'), false) AS risky,
               -- An empty array for a dependent map: the map completes with no task, and the steps it
               -- releases have their conditions evaluated (any of them, further on, may fail the run).
               coalesce(fm.feeds_map AND u.output = '[]'::jsonb, false) AS empties_map,
               -- A dependent with a condition, evaluated when the step completes: unmet, it fails the
               -- run (when_unmet 'fail'), or skips the dependent, whose own dependents' conditions are
               -- then evaluated in turn (any of them may fail the run).
               EXISTS (SELECT 1 FROM pgflow.deps AS d
                       JOIN pgflow.steps AS child ON child.flow_slug = d.flow_slug AND child.step_slug = d.step_slug
                       WHERE d.flow_slug = r.flow_slug AND d.dep_slug = u.step_slug
                         AND (child.required_input_pattern IS NOT NULL OR child.forbidden_input_pattern IS NOT NULL))
                 AS conditional
        FROM (
          SELECT x.*,
                 row_number() OVER (PARTITION BY x.run_id, x.step_slug, x.task_index ORDER BY x.ord) = 1 AS first_of_task
          FROM unnest(complete_tasks.run_ids, complete_tasks.step_slugs, complete_tasks.task_indexes,
                      complete_tasks.outputs) WITH ORDINALITY AS x(run_id, step_slug, task_index, output, ord)
        ) AS u
        LEFT JOIN LATERAL (
          SELECT t.status FROM pgflow.step_tasks AS t
          WHERE t.run_id = u.run_id AND t.step_slug = u.step_slug AND t.task_index = u.task_index
          OFFSET 0
        ) AS t ON true
        LEFT JOIN LATERAL (
          SELECT ss.status, ss.remaining_tasks FROM pgflow.step_states AS ss
          WHERE ss.run_id = u.run_id AND ss.step_slug = u.step_slug
          OFFSET 0
        ) AS ss ON true
        LEFT JOIN LATERAL (
          SELECT r.status, r.flow_slug, r.remaining_steps FROM pgflow.runs AS r
          WHERE r.run_id = u.run_id
          OFFSET 0
        ) AS r ON true
        LEFT JOIN pgflow.steps AS s ON s.flow_slug = r.flow_slug AND s.step_slug = u.step_slug
        -- A single step whose output sizes a dependent map.
        LEFT JOIN LATERAL (
          SELECT s.step_type = 'single'
                 AND EXISTS (SELECT 1 FROM pgflow.deps AS d
                             JOIN pgflow.steps AS child ON child.flow_slug = d.flow_slug AND child.step_slug = d.step_slug
                             WHERE d.flow_slug = r.flow_slug AND d.dep_slug = u.step_slug AND child.step_type = 'map')
                   AS feeds_map
          OFFSET 0
        ) AS fm ON true
        -- A subflow's child run.
        LEFT JOIN LATERAL (
          SELECT rc.run_id FROM pgflow_cpp.run_control AS rc
          WHERE rc.run_id = u.run_id AND rc.parent_run_id IS NOT NULL
          OFFSET 0
        ) AS rc ON true
          ) AS d
        ) AS g
        -- Of a step's started tasks in the batch, the first remaining_tasks - 1 only count down.
        CROSS JOIN LATERAL (SELECT coalesce(g.countable AND g.rank_in_step < g.remaining_tasks, false) AS counts_down) AS cd
      ) AS e
    ) AS f
  ) AS c;

  -- A lone final element goes through complete_task: the set-wise statements cost more than its
  -- (one element: 0.81 against 0.75 ms of CPU; ten: 0.22 against 0.54 ms per element,
  -- benchmarks/sql/call_costs.sh).
  IF cardinality(final_ords) = 1 THEN
    rest_ords := coalesce(rest_ords, '{}') || final_ords;
    final_ords := NULL;
  END IF;
  IF cardinality(cont_ords) = 1 THEN
    rest_ords := coalesce(rest_ords, '{}') || cont_ords;
    cont_ords := NULL;
  END IF;

  -- Bulk, final and continuing: the tasks by their keys, still 'started' (checked under each row
  -- lock), in one UPDATE (COLLATE "C" as in complete_task, so that no partial index on status stands
  -- in for the key); then their messages, one archive call per flow.
  IF bulk_ords IS NOT NULL OR final_ords IS NOT NULL OR cont_ords IS NOT NULL THEN
    WITH done AS (
      UPDATE pgflow.step_tasks AS t
      SET status = 'completed',
          completed_at = greatest(now(), t.queued_at, t.started_at),
          output = b.output
      FROM (SELECT o, complete_tasks.run_ids[o], complete_tasks.step_slugs[o], complete_tasks.task_indexes[o],
                   complete_tasks.outputs[o]
            FROM unnest(coalesce(bulk_ords, '{}') || coalesce(final_ords, '{}') || coalesce(cont_ords, '{}')) AS o)
             AS b(ord, run_id, step_slug, task_index, output)
      WHERE t.run_id = b.run_id AND t.step_slug = b.step_slug AND t.task_index = b.task_index
        AND t.status = 'started' COLLATE "C"
      RETURNING b.ord, t.flow_slug, t.run_id, t.step_slug, t.message_id
    )
    SELECT array_agg(d.ord ORDER BY d.ord), array_agg(d.flow_slug ORDER BY d.ord), array_agg(d.run_id ORDER BY d.ord),
           array_agg(d.step_slug ORDER BY d.ord), array_agg(d.message_id ORDER BY d.ord)
    INTO done_ords, done_flows, done_runs, done_steps, done_messages
    FROM done AS d;

    -- An element whose task was no longer started (another session completed it meanwhile) goes
    -- through complete_task, which returns the row as it is.
    rest_ords := coalesce(rest_ords, '{}')
                 || ARRAY(SELECT b FROM unnest(coalesce(bulk_ords, '{}') || coalesce(final_ords, '{}')
                                               || coalesce(cont_ords, '{}')) AS b
                          WHERE b <> ALL (coalesce(done_ords, '{}')));

    -- A task put back below goes through complete_task, which finds its message archived: the
    -- same end state.
    FOR archive IN
      SELECT m.flow_slug, array_agg(m.message_id ORDER BY m.message_id) AS ids
      FROM unnest(done_flows, done_messages) AS m(flow_slug, message_id)
      WHERE m.message_id IS NOT NULL
      GROUP BY m.flow_slug
    LOOP
      PERFORM pgmq.archive(archive.flow_slug, archive.ids);
    END LOOP;

    -- The counters below are the bulk elements' only: the final and continuing ones complete their
    -- steps below.
    IF final_ords IS NOT NULL OR cont_ords IS NOT NULL THEN
      final_ords := ARRAY(SELECT o FROM unnest(final_ords) AS o WHERE o = ANY (done_ords) ORDER BY o);
      -- A run's continuing elements stay together: a run with one that went to the rest above is
      -- noted, and its others are put back under the locks below.
      split_runs := ARRAY(SELECT DISTINCT complete_tasks.run_ids[o] FROM unnest(cont_ords) AS o
                          WHERE o <> ALL (coalesce(done_ords, '{}')));
      cont_ords := ARRAY(SELECT o FROM unnest(cont_ords) AS o WHERE o = ANY (done_ords) ORDER BY o);
      SELECT array_agg(d.ord ORDER BY d.ord), array_agg(d.run_id ORDER BY d.ord), array_agg(d.step_slug ORDER BY d.ord)
      INTO done_ords, done_runs, done_steps
      FROM unnest(done_ords, done_runs, done_steps) AS d(ord, run_id, step_slug)
      WHERE d.ord <> ALL (final_ords || cont_ords);
    END IF;

    -- A count-down whose task was no longer started (retried, or completed by another session)
    -- goes through complete_task, after its step's later count-downs: should its task be claimed
    -- again meanwhile, its completion would count the step down after theirs (and could complete
    -- it, and fail the run, after them). Those later count-downs are put back to go through
    -- complete_task in batch order behind it. Only when an element fell out (rare).
    IF cardinality(bulk_ords) > 0 AND EXISTS (SELECT 1 FROM unnest(bulk_ords) AS b WHERE b <> ALL (coalesce(done_ords, '{}'))) THEN
      moved_ords := ARRAY(SELECT d.ord FROM unnest(done_ords, done_runs, done_steps) AS d(ord, run_id, step_slug)
                          WHERE EXISTS (SELECT 1 FROM unnest(bulk_ords) AS b
                                        WHERE b <> ALL (done_ords) AND b < d.ord
                                          AND complete_tasks.run_ids[b] = d.run_id AND complete_tasks.step_slugs[b] = d.step_slug));
      put_back_ords := coalesce(put_back_ords, '{}') || moved_ords;
      rest_ords := coalesce(rest_ords, '{}') || moved_ords;
      SELECT array_agg(d.ord ORDER BY d.ord), array_agg(d.run_id ORDER BY d.ord), array_agg(d.step_slug ORDER BY d.ord)
      INTO done_ords, done_runs, done_steps
      FROM unnest(done_ords, done_runs, done_steps) AS d(ord, run_id, step_slug)
      WHERE d.ord <> ALL (moved_ords);
    END IF;
  END IF;

  -- The started tasks of the elements that go through complete_task, in key order, before the
  -- steps (the order of every completion, see Locks above): another session completing one of
  -- them (a duplicate completion) holds the task and then waits for its step, so a batch already
  -- holding the step would deadlock with it. Only started ones, the rows complete_task locks: a
  -- queued task (a stale report) is claimed, cancelled or woken by sessions that lock it while
  -- holding other tasks, steps or runs this batch holds or wants.
  IF cardinality(rest_ords) > 0 THEN
    PERFORM 1
    FROM (SELECT DISTINCT complete_tasks.run_ids[o] AS run_id, complete_tasks.step_slugs[o] AS step_slug,
                          complete_tasks.task_indexes[o] AS task_index
          FROM unnest(rest_ords) AS o
          ORDER BY 1, 2, 3) AS k
    CROSS JOIN LATERAL (
      SELECT 1 FROM pgflow.step_tasks AS t
      WHERE t.run_id = k.run_id AND t.step_slug = k.step_slug AND t.task_index = k.task_index
        AND t.status = 'started' COLLATE "C"
      FOR NO KEY UPDATE
    ) AS locked;
  END IF;

  -- Step states now, in a fixed order: every completion of these steps waits on them. Each row is
  -- reached by its key (LATERAL ... OFFSET 0), in the order of the sorted keys. A step that has
  -- not started (an element naming no task yet) is left to its run row's holder.
  PERFORM 1
  FROM (SELECT DISTINCT u.run_id, u.step_slug
        FROM unnest(complete_tasks.run_ids, complete_tasks.step_slugs) AS u(run_id, step_slug)
        ORDER BY u.run_id, u.step_slug) AS k
  CROSS JOIN LATERAL (
    SELECT 1 FROM pgflow.step_states AS ss
    WHERE ss.run_id = k.run_id AND ss.step_slug = k.step_slug AND ss.status <> 'created'
    FOR NO KEY UPDATE
  ) AS locked;

  -- Each step's counter, once. Locked, remaining_tasks counts this batch's tasks too (they are
  -- not committed): when it equals their number, the last of them completes the step and is put
  -- back to go through complete_task.
  IF done_ords IS NOT NULL THEN
    FOR step IN
      SELECT d.run_id, d.step_slug, count(*)::integer AS completed, max(d.ord) AS last_ord
      FROM unnest(done_runs, done_steps, done_ords) AS d(run_id, step_slug, ord)
      GROUP BY d.run_id, d.step_slug
      ORDER BY d.run_id, d.step_slug
    LOOP
      SELECT ss.remaining_tasks, ss.status INTO remaining, step_status
      FROM pgflow.step_states AS ss
      WHERE ss.run_id = step.run_id AND ss.step_slug = step.step_slug;
      -- pgflow 0.14: a step that stopped running meanwhile (skipped, or failed with its run) takes
      -- no late completion. Its tasks end as their siblings did, 'skipped' or 'cancelled' on a
      -- failed run (their messages are archived above), as complete_task does.
      IF step_status <> 'started' THEN
        UPDATE pgflow.step_tasks AS t
        SET status = CASE WHEN (SELECT r.status FROM pgflow.runs AS r WHERE r.run_id = step.run_id) = 'failed'
                          THEN 'cancelled' ELSE 'skipped' END,
            completed_at = NULL, output = NULL
        FROM unnest(done_runs, done_steps, done_ords) AS d(run_id, step_slug, ord)
        WHERE d.run_id = step.run_id AND d.step_slug = step.step_slug
          AND t.run_id = d.run_id AND t.step_slug = d.step_slug AND t.task_index = complete_tasks.task_indexes[d.ord];
        CONTINUE;
      END IF;
      counted := step.completed;
      IF remaining <= step.completed THEN
        put_back_ords := coalesce(put_back_ords, '{}') || step.last_ord;
        rest_ords := coalesce(rest_ords, '{}') || step.last_ord;
        counted := counted - 1;
      END IF;
      UPDATE pgflow.step_states AS ss
      SET remaining_tasks = ss.remaining_tasks - counted
      WHERE ss.run_id = step.run_id AND ss.step_slug = step.step_slug;
    END LOOP;

    FOREACH i IN ARRAY done_ords LOOP
      emitted[i] := NOT (i = ANY (coalesce(rest_ords, '{}')));
    END LOOP;
  END IF;

  -- The runs' rows of the final and continuing elements and of the rest, held in run_id order:
  -- otherwise two batches completing steps of the same runs in crossed order would each hold one
  -- run's dependents and wait for the other's.
  IF cardinality(rest_ords) > 0 OR cardinality(final_ords) > 0 OR cardinality(cont_ords) > 0 THEN
    PERFORM 1
    FROM (SELECT DISTINCT complete_tasks.run_ids[o] AS run_id
          FROM unnest(coalesce(rest_ords, '{}') || coalesce(final_ords, '{}') || coalesce(cont_ords, '{}')) AS o
          ORDER BY 1) AS k
    CROSS JOIN LATERAL (
      SELECT 1 FROM pgflow.runs AS r WHERE r.run_id = k.run_id
      FOR NO KEY UPDATE
    ) AS locked;
  END IF;

  -- Final and continuing elements, under the locks: each still its step's last task, its run still
  -- started, and the step still its run's last (final) or not (continuing): a cancellation, or
  -- another session's completion, may have come between the first reading and the locks. One
  -- that is not is put back and goes through complete_task like the rest.
  IF cardinality(final_ords) > 0 OR cardinality(cont_ords) > 0 THEN
    SELECT array_agg(c.ord ORDER BY c.ord) FILTER (WHERE c.ok AND c.final),
           array_agg(c.ord ORDER BY c.ord) FILTER (WHERE c.ok AND NOT c.final),
           array_agg(c.ord ORDER BY c.ord) FILTER (WHERE NOT c.ok)
    INTO final_ords, cont_ords, moved_ords
    FROM (
      -- A run's continuing elements stay together: when one of them is put back, or one went to
      -- the rest above (split_runs), all are.
      SELECT y.ord, y.final, bool_and(y.ok) OVER (PARTITION BY y.run_id) AS ok
      FROM (
        SELECT x.o AS ord, x.final, complete_tasks.run_ids[x.o] AS run_id,
               coalesce(ss.status = 'started' AND ss.remaining_tasks = 1 AND r.status = 'started'
                        AND CASE WHEN x.final THEN r.remaining_steps = 1
                                 ELSE r.remaining_steps > count(*) OVER (PARTITION BY complete_tasks.run_ids[x.o])
                                      AND complete_tasks.run_ids[x.o] <> ALL (coalesce(split_runs, '{}')) END,
                        false) AS ok
        FROM (SELECT o, true AS final FROM unnest(final_ords) AS o
              UNION ALL
              SELECT o, false FROM unnest(cont_ords) AS o) AS x
        LEFT JOIN LATERAL (
          SELECT ss.status, ss.remaining_tasks FROM pgflow.step_states AS ss
          WHERE ss.run_id = complete_tasks.run_ids[x.o] AND ss.step_slug = complete_tasks.step_slugs[x.o]
          OFFSET 0
        ) AS ss ON true
        LEFT JOIN LATERAL (
          SELECT r.status, r.remaining_steps FROM pgflow.runs AS r WHERE r.run_id = complete_tasks.run_ids[x.o]
          OFFSET 0
        ) AS r ON true
      ) AS y
    ) AS c;
    IF moved_ords IS NOT NULL THEN
      put_back_ords := coalesce(put_back_ords, '{}') || moved_ords;
      rest_ords := coalesce(rest_ords, '{}') || moved_ords;
    END IF;
  END IF;
  IF cardinality(final_ords) > 0 THEN
    UPDATE pgflow.step_states AS ss
    SET remaining_tasks = 0, status = 'completed', completed_at = greatest(now(), ss.started_at)
    FROM unnest(final_ords) AS o
    WHERE ss.run_id = complete_tasks.run_ids[o] AND ss.step_slug = complete_tasks.step_slugs[o];
    -- Counted off and completed in one UPDATE (complete_task counts the step off, then
    -- maybe_complete_run completes the run); the output sees the steps completed above.
    WITH completed AS (
      UPDATE pgflow.runs AS r
      SET remaining_steps = 0, status = 'completed', completed_at = greatest(now(), r.started_at),
          output = pgflow_cpp._run_output(r.run_id)
      FROM unnest(final_ords) AS o
      WHERE r.run_id = complete_tasks.run_ids[o]
      RETURNING o AS ord, r.run_id, r.flow_slug, r.output, r.completed_at
    )
    -- Each run's step:completed, then its run:completed, in batch order. No run_finished: these
    -- runs are nobody's children and did not fail, so there is no parent's wait to wake and no
    -- child to cancel.
    SELECT count(*) INTO counted
    FROM (SELECT pgflow_cpp._broadcast_many(events.run_ids, events.names, events.payloads)
          FROM (SELECT array_agg(e.run_id ORDER BY e.ord, e.k) AS run_ids,
                       array_agg(e.event ORDER BY e.ord, e.k) AS names,
                       array_agg(e.payload ORDER BY e.ord, e.k) AS payloads
                FROM (SELECT c.ord, 1 AS k, c.run_id, 'step:' || complete_tasks.step_slugs[c.ord] || ':completed' AS event,
                             pgflow_cpp._step_completed_event(c.run_id, complete_tasks.step_slugs[c.ord], ss.completed_at,
                                                              complete_tasks.outputs[c.ord], false) AS payload
                      FROM completed AS c
                      CROSS JOIN LATERAL (
                        SELECT ss.completed_at FROM pgflow.step_states AS ss
                        WHERE ss.run_id = c.run_id AND ss.step_slug = complete_tasks.step_slugs[c.ord]
                        OFFSET 0
                      ) AS ss
                      UNION ALL
                      SELECT c.ord, 2, c.run_id, 'run:completed',
                             pgflow_cpp._run_completed_event(c.run_id, c.flow_slug, c.output, c.completed_at)
                      FROM completed AS c) AS e) AS events) AS sent;
    FOREACH i IN ARRAY final_ords LOOP
      emitted[i] := true;
    END LOOP;
  END IF;

  IF cardinality(cont_ords) > 0 THEN
    PERFORM pgflow_cpp._continue_runs(complete_tasks.run_ids, complete_tasks.step_slugs, complete_tasks.outputs, cont_ords);
    FOREACH i IN ARRAY cont_ords LOOP
      emitted[i] := true;
    END LOOP;
  END IF;

  -- Elements put back above: their tasks, completed set-wise, are 'started' again for
  -- complete_task (which finds their messages archived: the same end state).
  IF put_back_ords IS NOT NULL THEN
    UPDATE pgflow.step_tasks AS t
    SET status = 'started', completed_at = NULL, output = NULL
    FROM unnest(put_back_ords) AS o
    WHERE t.run_id = complete_tasks.run_ids[o] AND t.step_slug = complete_tasks.step_slugs[o]
      AND t.task_index = complete_tasks.task_indexes[o];
  END IF;

  -- Rest, in batch order (the steps above append to rest_ords as they put elements back).
  IF cardinality(rest_ords) > 0 THEN
    rest_ords := ARRAY(SELECT o FROM unnest(rest_ords) AS o ORDER BY o);
    FOREACH i IN ARRAY rest_ords LOOP
      SELECT * INTO rest_row FROM pgflow.complete_task(complete_tasks.run_ids[i], complete_tasks.step_slugs[i],
                                                       complete_tasks.task_indexes[i], complete_tasks.outputs[i]);
      emitted[i] := FOUND;
      IF FOUND THEN
        rest_rows[i] := rest_row;
      END IF;
    END LOOP;
  END IF;

  -- Slots under step concurrency limits of the tasks completed set-wise (complete_task freed the
  -- others'; for them this finds nothing). Skipped when every element went through complete_task
  -- (0.03-0.04 ms per call: benchmarks/sql/statement_profile.sh).
  IF cardinality(coalesce(rest_ords, '{}')) < n THEN
    PERFORM pgflow_cpp._release_task_slots(complete_tasks.run_ids, complete_tasks.step_slugs,
                                           complete_tasks.task_indexes);
  END IF;

  -- What complete_task returns per element, in input order: the row complete_task returned for
  -- the elements that went through it (a later element may change it: a queued task's row, say,
  -- is returned 'queued' though a later element fails the run and cancels it, as one call at a
  -- time would return it), and the task row as the batch left it for the others (no later
  -- element changes it).
  RETURN QUERY
  SELECT t.*
  FROM unnest(complete_tasks.run_ids, complete_tasks.step_slugs, complete_tasks.task_indexes, emitted)
         WITH ORDINALITY AS u(run_id, step_slug, task_index, emitted, ord)
  CROSS JOIN LATERAL (
    SELECT t.* FROM pgflow.step_tasks AS t
    WHERE (rest_rows[u.ord]).run_id IS NULL
      AND t.run_id = u.run_id AND t.step_slug = u.step_slug AND t.task_index = u.task_index
    UNION ALL
    SELECT (rest_rows[u.ord]).*
    WHERE (rest_rows[u.ord]).run_id IS NOT NULL
    OFFSET 0
  ) AS t
  WHERE u.emitted
  ORDER BY u.ord;
END;
$$;
