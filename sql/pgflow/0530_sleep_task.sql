-- pgflow_cpp.sleep_task(run_id, step_slug, task_index, until) -> void
-- (Addition.) A worker that claimed a task of a sleep step (and computed until from its input)
-- parks it: the task's message is archived and the task waits, 'queued' and holding no worker,
-- until wake_due_waits completes it at until with output to_jsonb(until) (step:<slug>:waiting
-- now). An until not in the future completes the task at once.
-- Errors: P0002 unknown run, step or task; 22023 the step is not a sleep step, or until is NULL;
-- 55000 the task is not 'started' (e.g. its run was cancelled meanwhile).
CREATE OR REPLACE FUNCTION pgflow_cpp.sleep_task(run_id uuid, step_slug text, task_index integer, until timestamptz)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
SET enable_seqscan = off  -- plans cached on small tables stay key lookups: sql/README.md, "Query plans"
AS $$
DECLARE
  run_flow text;
  step_kind text;
  task pgflow.step_tasks;
BEGIN
  SELECT r.flow_slug INTO run_flow FROM pgflow.runs AS r WHERE r.run_id = sleep_task.run_id;
  IF run_flow IS NULL THEN
    RAISE EXCEPTION 'Run % does not exist', sleep_task.run_id USING ERRCODE = 'no_data_found';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgflow.steps AS s WHERE s.flow_slug = run_flow AND s.step_slug = sleep_task.step_slug) THEN
    RAISE EXCEPTION 'Flow "%" of run % has no step "%"', run_flow, sleep_task.run_id, sleep_task.step_slug
      USING ERRCODE = 'no_data_found';
  END IF;
  SELECT k.kind INTO step_kind FROM pgflow_cpp.step_kinds AS k
  WHERE k.flow_slug = run_flow AND k.step_slug = sleep_task.step_slug;
  IF step_kind IS DISTINCT FROM 'sleep' THEN
    RAISE EXCEPTION 'Step "%" of flow "%" is not a sleep step (it is a % step)', sleep_task.step_slug, run_flow,
      coalesce(step_kind, 'handler') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF sleep_task.until IS NULL THEN
    RAISE EXCEPTION 'Sleep step "%": until must not be NULL', sleep_task.step_slug USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT * INTO task FROM pgflow.step_tasks AS t
  WHERE t.run_id = sleep_task.run_id AND t.step_slug = sleep_task.step_slug AND t.task_index = sleep_task.task_index
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Step "%" of run % has no task %', sleep_task.step_slug, sleep_task.run_id, sleep_task.task_index
      USING ERRCODE = 'no_data_found';
  END IF;
  IF task.status <> 'started' THEN
    RAISE EXCEPTION 'Task % of sleep step "%" of run % is %, not started: only a claimed task can sleep',
      sleep_task.task_index, sleep_task.step_slug, sleep_task.run_id, task.status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  IF sleep_task.until <= now() THEN
    PERFORM pgflow.complete_task(sleep_task.run_id, sleep_task.step_slug, sleep_task.task_index, to_jsonb(sleep_task.until));
    RETURN;
  END IF;
  IF task.message_id IS NOT NULL THEN
    PERFORM pgmq.archive(run_flow, task.message_id);
  END IF;
  UPDATE pgflow.step_tasks AS t SET status = 'queued'
  WHERE t.run_id = sleep_task.run_id AND t.step_slug = sleep_task.step_slug AND t.task_index = sleep_task.task_index;
  PERFORM pgflow_cpp.open_wait(sleep_task.run_id, sleep_task.step_slug, sleep_task.task_index, 'sleep',
                               sleep_task.until, NULL);
END;
$$;
