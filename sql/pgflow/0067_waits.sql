-- Steps without handlers (signals, sleeps, subflows): what a step is, and which tasks wait.
-- In schema pgflow_cpp: pgflow's tables keep 0.8.1's columns and statuses. A waiting task is
-- 'queued' in pgflow.step_tasks with no visible queue message (so no worker can claim it); the
-- wait itself is a row of pgflow_cpp.waits.
--
-- step_kinds: one row per step registered with pgflow_cpp.set_step_kind; a step without a row is
-- an ordinary handler step (every 0.8.1 flow).
--   kind             'signal' (completed by pgflow_cpp.signal), 'sleep' (a worker computes the
--                    time, pgflow_cpp.sleep_task parks the task until then) or 'subflow' (a child
--                    run of child_flow_slug per task).
--   signal_timeout   seconds a signal is awaited before the attempt fails (NULL: for ever).
--   value_shape      what a signal's value must look like (pgflow_cpp.json_matches_shape; NULL: any).
CREATE TABLE IF NOT EXISTS pgflow_cpp.step_kinds (
  flow_slug text NOT NULL,
  step_slug text NOT NULL,
  kind text NOT NULL,
  signal_timeout integer NULL,
  value_shape jsonb NULL,
  child_flow_slug text NULL,
  CONSTRAINT step_kinds_pkey PRIMARY KEY (flow_slug, step_slug),
  CONSTRAINT step_kinds_step_fkey FOREIGN KEY (flow_slug, step_slug)
    REFERENCES pgflow.steps (flow_slug, step_slug) ON DELETE CASCADE,
  CONSTRAINT step_kinds_child_flow_fkey FOREIGN KEY (child_flow_slug) REFERENCES pgflow.flows (flow_slug),
  CONSTRAINT step_kinds_kind_is_valid CHECK (kind IN ('signal', 'sleep', 'subflow')),
  CONSTRAINT step_kinds_child_only_for_subflow CHECK ((kind = 'subflow') = (child_flow_slug IS NOT NULL)),
  CONSTRAINT step_kinds_timeout_only_for_signal CHECK (signal_timeout IS NULL OR (kind = 'signal' AND signal_timeout > 0)),
  CONSTRAINT step_kinds_shape_only_for_signal CHECK (value_shape IS NULL OR kind = 'signal')
);

-- Definitions, like pgflow.steps: any role granted USAGE on the schema may read them (a worker
-- verifying a registered flow compares its steps' kinds).
GRANT SELECT ON pgflow_cpp.step_kinds TO PUBLIC;

-- waits: one row per task that waits.
--   waiting_since  when this wait began (a retry or a sleep begins a new one).
--   wake_at        when pgflow_cpp.wake_due_waits must act: a signal's timeout, a sleep's end, a
--                  subflow task's delayed retry (or now(), once its child run has finished);
--                  NULL: nothing to do until a signal or the child run arrives.
--   child_run_id   the subflow task's current child run.
--   start_error    why its child run could not be started (wake_due_waits fails the task with it).
-- A row whose task is no longer 'queued' (cancelled or skipped with its run or step) is stale:
-- readers join the task; wake_due_waits deletes such rows when they come due; rows go with their
-- task (ON DELETE CASCADE, e.g. pgflow.prune_data_older_than).
CREATE TABLE IF NOT EXISTS pgflow_cpp.waits (
  run_id uuid NOT NULL,
  step_slug text NOT NULL,
  task_index integer NOT NULL,
  kind text NOT NULL,
  waiting_since timestamptz NOT NULL DEFAULT now(),
  wake_at timestamptz NULL,
  child_run_id uuid NULL,
  start_error text NULL,
  CONSTRAINT waits_pkey PRIMARY KEY (run_id, step_slug, task_index),
  CONSTRAINT waits_task_fkey FOREIGN KEY (run_id, step_slug, task_index)
    REFERENCES pgflow.step_tasks (run_id, step_slug, task_index) ON DELETE CASCADE,
  CONSTRAINT waits_child_run_id_fkey FOREIGN KEY (child_run_id) REFERENCES pgflow.runs (run_id) ON DELETE SET NULL,
  CONSTRAINT waits_kind_is_valid CHECK (kind IN ('signal', 'sleep', 'subflow')),
  CONSTRAINT waits_child_only_for_subflow CHECK (child_run_id IS NULL OR kind = 'subflow')
);
DO $indexes$
BEGIN
  IF to_regclass('pgflow_cpp.idx_waits_wake_at') IS NULL THEN
    CREATE INDEX idx_waits_wake_at ON pgflow_cpp.waits (wake_at) WHERE wake_at IS NOT NULL;
  END IF;
  IF to_regclass('pgflow_cpp.idx_waits_child_run_id') IS NULL THEN
    CREATE INDEX idx_waits_child_run_id ON pgflow_cpp.waits (child_run_id) WHERE child_run_id IS NOT NULL;
  END IF;
END
$indexes$;
