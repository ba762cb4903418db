-- pgflow_cpp.run_control: what pgflow-cpp's run control adds to a run (one row per run that uses
-- it; other runs have none). Not columns of pgflow.runs: cancel, retry, resume and idempotent
-- starts are upstream designs that pgflow has not shipped, so they live in pgflow_cpp, named
-- after upstream's design (restart_of_run_id), where a later pgflow release cannot collide.
--   cancelled_at       set by cancel_run; the run itself is then 'failed' in pgflow.runs (with
--                      failed_at = cancelled_at), so pgflow 0.8.1 workers and clients see a
--                      finished run they already handle; pgflow_cpp.run_status says 'cancelled'.
--   restart_of_run_id  the run this one retries or resumes (the immediate predecessor); a run is
--                      restarted at most once (run_control_restart_of_run_id_key), so lineage is a
--                      chain and two concurrent retries of one run cannot both start a run.
--   restart_kind       'retry' (a fresh run of the same input) or 'resume' (completed work reused).
--   idempotency_key    the key start_flow_idempotent was called with: one run per (flow, key).
--   parent_run_id, parent_step_slug, parent_task_index
--                      a child run of a subflow step: the parent run's task it serves (its
--                      completion or failure completes or fails that task; NULL once the parent
--                      is pruned).
--   priority           a finished run's priority (start_flow_with_priority, or its parent's), kept
--                      when the run leaves run_priorities (0610) so that retry_run and resume_run
--                      give the new run the same priority; NULL for priority 0.
-- Rows go with their run (ON DELETE CASCADE); a deleted predecessor leaves restart_of_run_id NULL.
CREATE TABLE IF NOT EXISTS pgflow_cpp.run_control (
  run_id uuid NOT NULL,
  flow_slug text NOT NULL,
  cancelled_at timestamptz NULL,
  restart_of_run_id uuid NULL,
  restart_kind text NULL,
  idempotency_key text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  parent_run_id uuid NULL,
  parent_step_slug text NULL,
  parent_task_index integer NULL,
  CONSTRAINT run_control_pkey PRIMARY KEY (run_id),
  CONSTRAINT run_control_run_id_fkey FOREIGN KEY (run_id) REFERENCES pgflow.runs (run_id) ON DELETE CASCADE,
  CONSTRAINT run_control_restart_of_run_id_fkey FOREIGN KEY (restart_of_run_id)
    REFERENCES pgflow.runs (run_id) ON DELETE SET NULL,
  CONSTRAINT run_control_restart_of_run_id_key UNIQUE (restart_of_run_id),
  CONSTRAINT run_control_idempotency_key UNIQUE (flow_slug, idempotency_key),
  CONSTRAINT run_control_restart_kind_check CHECK (restart_kind IN ('retry', 'resume')),
  CONSTRAINT run_control_restart_kind_known CHECK (restart_of_run_id IS NULL OR restart_kind IS NOT NULL),
  CONSTRAINT run_control_not_own_restart CHECK (restart_of_run_id <> run_id),
  CONSTRAINT run_control_parent_run_id_fkey FOREIGN KEY (parent_run_id) REFERENCES pgflow.runs (run_id) ON DELETE SET NULL
);

-- The parent columns (subflows) for an install made before them; guarded by a catalog lookup
-- (see 0062: ALTER TABLE locks even when there is nothing to add).
DO $parent$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'pgflow_cpp.run_control'::regclass AND attname = 'parent_run_id' AND NOT attisdropped) THEN
    ALTER TABLE pgflow_cpp.run_control
      ADD COLUMN IF NOT EXISTS parent_run_id uuid NULL,
      ADD COLUMN IF NOT EXISTS parent_step_slug text NULL,
      ADD COLUMN IF NOT EXISTS parent_task_index integer NULL,
      ADD CONSTRAINT run_control_parent_run_id_fkey FOREIGN KEY (parent_run_id) REFERENCES pgflow.runs (run_id) ON DELETE SET NULL;
  END IF;
  IF to_regclass('pgflow_cpp.idx_run_control_parent_run_id') IS NULL THEN
    CREATE INDEX idx_run_control_parent_run_id ON pgflow_cpp.run_control (parent_run_id) WHERE parent_run_id IS NOT NULL;
  END IF;
END
$parent$;

-- The priority column for an install made before it (guarded as above).
DO $priority$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'pgflow_cpp.run_control'::regclass AND attname = 'priority' AND NOT attisdropped) THEN
    ALTER TABLE pgflow_cpp.run_control ADD COLUMN IF NOT EXISTS priority integer NULL;
  END IF;
END
$priority$;
