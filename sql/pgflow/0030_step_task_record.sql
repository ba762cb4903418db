-- pgflow.step_task_record: what start_tasks returns per claimed task (task_index last, as in a
-- database migrated to 0.8.1).
DO $$
BEGIN
  IF to_regtype('pgflow.step_task_record') IS NULL THEN
    CREATE TYPE pgflow.step_task_record AS (
      flow_slug text,
      run_id uuid,
      step_slug text,
      input jsonb,
      msg_id bigint,
      task_index integer
    );
  END IF;
END
$$;
