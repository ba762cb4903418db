-- pgflow_cpp._queue_tasks(flow_slug, run_ids, step_slugs, task_indexes, start_delay) -> void
-- (Internal.) Queues the tasks (run_ids[i], step_slugs[i], task_indexes[i]) of the flow: one
-- pgmq.send_batch of their messages ({flow_slug, run_id, step_slug, task_index}, visible after
-- start_delay seconds) and one step_tasks row per message, in one statement. msg_ids come back in
-- array order, so the n-th id belongs to the n-th task. The caller sends the queue's wake-up
-- (pgflow_cpp.notify on pgflow:queue:<flow>) once it has queued everything visible at once.
-- Every message of a step's tasks is made here (start_ready_steps, start_flow, complete_tasks'
-- continuing path, a resumed run's partly completed steps).
CREATE OR REPLACE FUNCTION pgflow_cpp._queue_tasks(flow_slug text, run_ids uuid[], step_slugs text[],
                                                   task_indexes integer[], start_delay integer)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  INSERT INTO pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id)
  SELECT _queue_tasks.flow_slug, _queue_tasks.run_ids[sent.ord], _queue_tasks.step_slugs[sent.ord],
         _queue_tasks.task_indexes[sent.ord], sent.msg_id
  FROM pgmq.send_batch(
         _queue_tasks.flow_slug,
         ARRAY(SELECT jsonb_build_object('flow_slug', _queue_tasks.flow_slug, 'run_id', m.run_id,
                                         'step_slug', m.step_slug, 'task_index', m.task_index)
               FROM unnest(_queue_tasks.run_ids, _queue_tasks.step_slugs, _queue_tasks.task_indexes)
                      WITH ORDINALITY AS m(run_id, step_slug, task_index, ord)
               ORDER BY m.ord),
         NULL::jsonb[],
         clock_timestamp() + make_interval(secs => _queue_tasks.start_delay)) WITH ORDINALITY AS sent(msg_id, ord);
END;
$$;
