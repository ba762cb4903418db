-- pgflow_cpp._release_task_slots(run_ids, step_slugs, task_indexes) -> void
-- Called when tasks complete (pgflow.complete_task, pgflow.complete_tasks), a started task fails
-- (pgflow_cpp.fail_task_internal: retried, failed or skipped), or tasks are cancelled with their
-- run (cancel_active_tasks) or skipped with their step (skip_exhausted_step,
-- pgflow._cascade_force_skip_steps): frees the slots of those that held one under a step
-- concurrency limit (pgflow_cpp.task_slots), and for each freed slot shows again at once one task
-- that a claim refused at the limit, waking the flow's idle workers (pgflow:queue:<flow_slug>).
-- Without this a refused task waited out its delay (0.5 s and up) with a slot free. A refused task
-- is one whose queued message was read but whose task never started an attempt (attempts_count 0),
-- shown later than now: a start_delay's message was never read, and a retry's back-off belongs to
-- a task with attempts. Most tasks hold no slot: the runs' slots are probed first, so a call for
-- tasks of runs without slots costs that probe (a few microseconds, against 0.04-0.16 ms for the
-- whole call: benchmarks/sql/statement_profile.sh). A started task's slot was committed by its
-- claim, so the probe sees it. A slot whose task ended any other way is freed by the next claim of
-- its step (pgflow_cpp._admit_tasks).
CREATE OR REPLACE FUNCTION pgflow_cpp._release_task_slots(run_ids uuid[], step_slugs text[], task_indexes integer[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  freed record;
  shown integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgflow_cpp.task_slots AS s
                 WHERE s.run_id = ANY (ARRAY(SELECT DISTINCT u.run_id FROM unnest(_release_task_slots.run_ids) AS u(run_id)))) THEN
    RETURN;
  END IF;
  FOR freed IN
    WITH gone AS (
      DELETE FROM pgflow_cpp.task_slots AS s
      USING unnest(_release_task_slots.run_ids, _release_task_slots.step_slugs, _release_task_slots.task_indexes)
              AS u(run_id, step_slug, task_index)
      WHERE s.run_id = u.run_id AND s.step_slug = u.step_slug AND s.task_index = u.task_index
      RETURNING s.flow_slug, s.step_slug
    )
    SELECT g.flow_slug, g.step_slug, count(*)::integer AS n FROM gone AS g GROUP BY g.flow_slug, g.step_slug
  LOOP
    EXECUTE format(
      $SQL$
      UPDATE pgmq.%1$I AS q SET vt = clock_timestamp()
      WHERE q.msg_id IN (
        SELECT m.msg_id FROM pgmq.%1$I AS m
        JOIN pgflow.step_tasks AS t ON t.message_id = m.msg_id AND t.status = 'queued'
        WHERE m.vt > clock_timestamp() AND m.read_ct > 0
          AND t.flow_slug = $1 AND t.step_slug = $2 AND t.attempts_count = 0
        ORDER BY m.vt
        LIMIT $3
        FOR UPDATE OF m SKIP LOCKED)  -- a message a claim or another completion holds is theirs
      $SQL$,
      pgmq.format_table_name(freed.flow_slug, 'q'))
    USING freed.flow_slug, freed.step_slug, freed.n;
    GET DIAGNOSTICS shown = ROW_COUNT;
    IF shown > 0 THEN
      PERFORM pgflow_cpp.notify('pgflow:queue:' || freed.flow_slug, '');
    END IF;
  END LOOP;
END;
$$;
