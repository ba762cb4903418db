-- pgflow_cpp.cancel_active_tasks(run_id, flow_slug, skip_locked) -> table (step_slug, tasks)
-- (Internal.) pgflow 0.15.1's rule "no task of a finished run stays active": every 'queued' or
-- 'started' task of the run becomes 'cancelled' (nothing else of the row changes: upstream has no
-- cancelled_at; the run's failed_at is the time), then their messages are archived (tasks before
-- queue rows, upstream's lock order). skip_locked leaves the tasks another session holds to it
-- (fail_task and the type violation hold their step's state, which a concurrent completion of a
-- sibling task waits for while holding that task: waiting here would deadlock; that session finds
-- the run failed or completes its task). The slots the cancelled tasks held under step concurrency
-- limits go at once, and as many tasks refused for want of them are shown again
-- (_release_task_slots). Returns the number of tasks cancelled per step.
CREATE OR REPLACE FUNCTION pgflow_cpp.cancel_active_tasks(run_id uuid, flow_slug text, skip_locked boolean)
RETURNS TABLE (step_slug text, tasks integer)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  steps text[];
  indexes integer[];
  messages bigint[];
BEGIN
  IF skip_locked THEN
    WITH cancelled AS (
      UPDATE pgflow.step_tasks AS t SET status = 'cancelled'
      FROM (SELECT a.step_slug, a.task_index FROM pgflow.step_tasks AS a
            WHERE a.run_id = cancel_active_tasks.run_id AND a.status IN ('queued', 'started')
            FOR NO KEY UPDATE OF a SKIP LOCKED) AS a
      WHERE t.run_id = cancel_active_tasks.run_id AND t.step_slug = a.step_slug AND t.task_index = a.task_index
        AND t.status IN ('queued', 'started')
      RETURNING t.step_slug, t.task_index, t.message_id)
    SELECT array_agg(c.step_slug), array_agg(c.task_index), array_agg(c.message_id) FILTER (WHERE c.message_id IS NOT NULL)
    INTO steps, indexes, messages FROM cancelled AS c;
  ELSE
    WITH cancelled AS (
      UPDATE pgflow.step_tasks AS t SET status = 'cancelled'
      WHERE t.run_id = cancel_active_tasks.run_id AND t.status IN ('queued', 'started')
      RETURNING t.step_slug, t.task_index, t.message_id)
    SELECT array_agg(c.step_slug), array_agg(c.task_index), array_agg(c.message_id) FILTER (WHERE c.message_id IS NOT NULL)
    INTO steps, indexes, messages FROM cancelled AS c;
  END IF;

  IF messages IS NOT NULL THEN
    PERFORM pgmq.archive(cancel_active_tasks.flow_slug, messages);
  END IF;
  IF steps IS NOT NULL THEN
    PERFORM pgflow_cpp._release_task_slots(array_fill(cancel_active_tasks.run_id, ARRAY[cardinality(steps)]), steps, indexes);
  END IF;
  RETURN QUERY SELECT s.slug, count(*)::integer FROM unnest(steps) AS s(slug) GROUP BY s.slug ORDER BY s.slug;
END;
$$;
