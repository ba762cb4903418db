-- Run-time state: runs, step_states, step_tasks. Column order of a database migrated to pgflow
-- 0.8.1 (error_message/initial_tasks last in step_states, started_at/last_worker_id last in
-- step_tasks). runs and step_states leave free space in each page (fillfactor) because their
-- counters are updated once per completed task; those updates touch no indexed column and can
-- then stay on the page (HOT) instead of bloating the indexes.
CREATE TABLE IF NOT EXISTS pgflow.runs (
  run_id uuid NOT NULL DEFAULT gen_random_uuid(),
  flow_slug text NOT NULL,
  status text NOT NULL DEFAULT 'started',
  input jsonb NOT NULL,
  output jsonb NULL,
  remaining_steps integer NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz NULL,
  failed_at timestamptz NULL,
  CONSTRAINT runs_pkey PRIMARY KEY (run_id),
  CONSTRAINT runs_flow_slug_fkey FOREIGN KEY (flow_slug) REFERENCES pgflow.flows (flow_slug),
  CONSTRAINT completed_at_is_after_started_at CHECK (completed_at IS NULL OR completed_at >= started_at),
  CONSTRAINT completed_at_or_failed_at CHECK (NOT (completed_at IS NOT NULL AND failed_at IS NOT NULL)),
  CONSTRAINT failed_at_is_after_started_at CHECK (failed_at IS NULL OR failed_at >= started_at),
  CONSTRAINT runs_remaining_steps_check CHECK (remaining_steps >= 0),
  CONSTRAINT status_is_valid CHECK (status = ANY (ARRAY['started'::text, 'failed'::text, 'completed'::text]))
) WITH (fillfactor = 80);
-- Each index only when missing: CREATE INDEX IF NOT EXISTS would take a SHARE lock on the
-- table even when the index exists, and hold it to the end of the install's transaction, where
-- it deadlocks with running flows (a re-install while workers run).
DO $indexes$
BEGIN
  IF to_regclass('pgflow.idx_runs_flow_slug') IS NULL THEN
    CREATE INDEX idx_runs_flow_slug ON pgflow.runs (flow_slug);
  END IF;
  IF to_regclass('pgflow.idx_runs_status') IS NULL THEN
    CREATE INDEX idx_runs_status ON pgflow.runs (status);
  END IF;
END
$indexes$;

CREATE TABLE IF NOT EXISTS pgflow.step_states (
  flow_slug text NOT NULL,
  run_id uuid NOT NULL,
  step_slug text NOT NULL,
  status text NOT NULL DEFAULT 'created',
  remaining_tasks integer NULL,
  remaining_deps integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz NULL,
  completed_at timestamptz NULL,
  failed_at timestamptz NULL,
  error_message text NULL,
  initial_tasks integer NULL,
  skip_reason text NULL,
  skipped_at timestamptz NULL,
  CONSTRAINT step_states_pkey PRIMARY KEY (run_id, step_slug),
  CONSTRAINT step_states_flow_slug_fkey FOREIGN KEY (flow_slug) REFERENCES pgflow.flows (flow_slug),
  CONSTRAINT step_states_flow_slug_step_slug_fkey FOREIGN KEY (flow_slug, step_slug) REFERENCES pgflow.steps (flow_slug, step_slug),
  CONSTRAINT step_states_run_id_fkey FOREIGN KEY (run_id) REFERENCES pgflow.runs (run_id),
  CONSTRAINT completed_at_is_after_started_at CHECK (completed_at IS NULL OR completed_at >= started_at),
  CONSTRAINT completed_at_or_failed_at_or_skipped_at CHECK ((CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END
    + CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN skipped_at IS NOT NULL THEN 1 ELSE 0 END) <= 1),
  CONSTRAINT failed_at_is_after_started_at CHECK (failed_at IS NULL OR failed_at >= started_at),
  CONSTRAINT started_at_is_after_created_at CHECK (started_at IS NULL OR started_at >= created_at),
  CONSTRAINT status_and_remaining_tasks_match CHECK (status <> 'completed'::text OR remaining_tasks = 0),
  CONSTRAINT status_is_valid CHECK (status = ANY (ARRAY['created'::text, 'started'::text, 'completed'::text, 'failed'::text, 'skipped'::text])),
  CONSTRAINT step_states_remaining_deps_check CHECK (remaining_deps >= 0),
  CONSTRAINT initial_tasks_known_when_started CHECK (status <> 'started'::text OR initial_tasks IS NOT NULL),
  CONSTRAINT remaining_tasks_state_consistency CHECK (remaining_tasks IS NULL OR status <> ALL (ARRAY['created'::text, 'skipped'::text])),
  CONSTRAINT step_states_initial_tasks_check CHECK (initial_tasks IS NULL OR initial_tasks >= 0),
  CONSTRAINT skip_reason_matches_status CHECK ((status = 'skipped'::text) = (skip_reason IS NOT NULL)),
  CONSTRAINT skipped_at_is_after_created_at CHECK (skipped_at IS NULL OR skipped_at >= created_at)
) WITH (fillfactor = 80);
-- Each index only when missing: CREATE INDEX IF NOT EXISTS would take a SHARE lock on the
-- table even when the index exists, and hold it to the end of the install's transaction, where
-- it deadlocks with running flows (a re-install while workers run).
DO $indexes$
BEGIN
  IF to_regclass('pgflow.idx_step_states_failed') IS NULL THEN
    CREATE INDEX idx_step_states_failed ON pgflow.step_states (run_id, step_slug) WHERE status = 'failed'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_states_flow_slug') IS NULL THEN
    CREATE INDEX idx_step_states_flow_slug ON pgflow.step_states (flow_slug);
  END IF;
  IF to_regclass('pgflow.idx_step_states_ready') IS NULL THEN
    CREATE INDEX idx_step_states_ready ON pgflow.step_states (run_id, status, remaining_deps) WHERE status = 'created'::text AND remaining_deps = 0;
  END IF;
  IF to_regclass('pgflow.idx_step_states_skipped') IS NULL THEN
    CREATE INDEX idx_step_states_skipped ON pgflow.step_states (run_id, step_slug) WHERE status = 'skipped'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_states_run_id') IS NULL THEN
    CREATE INDEX idx_step_states_run_id ON pgflow.step_states (run_id);
  END IF;
END
$indexes$;

CREATE TABLE IF NOT EXISTS pgflow.step_tasks (
  flow_slug text NOT NULL,
  run_id uuid NOT NULL,
  step_slug text NOT NULL,
  message_id bigint NULL,
  task_index integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'queued',
  attempts_count integer NOT NULL DEFAULT 0,
  error_message text NULL,
  output jsonb NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz NULL,
  failed_at timestamptz NULL,
  started_at timestamptz NULL,
  last_worker_id uuid NULL,
  CONSTRAINT step_tasks_pkey PRIMARY KEY (run_id, step_slug, task_index),
  CONSTRAINT step_tasks_flow_slug_fkey FOREIGN KEY (flow_slug) REFERENCES pgflow.flows (flow_slug),
  CONSTRAINT step_tasks_run_id_fkey FOREIGN KEY (run_id) REFERENCES pgflow.runs (run_id),
  CONSTRAINT step_tasks_run_id_step_slug_fkey FOREIGN KEY (run_id, step_slug) REFERENCES pgflow.step_states (run_id, step_slug),
  CONSTRAINT step_tasks_last_worker_id_fkey FOREIGN KEY (last_worker_id) REFERENCES pgflow.workers (worker_id) ON DELETE SET NULL,
  CONSTRAINT attempts_count_nonnegative CHECK (attempts_count >= 0),
  CONSTRAINT completed_at_is_after_queued_at CHECK (completed_at IS NULL OR completed_at >= queued_at),
  CONSTRAINT completed_at_or_failed_at CHECK (NOT (completed_at IS NOT NULL AND failed_at IS NOT NULL)),
  CONSTRAINT failed_at_is_after_queued_at CHECK (failed_at IS NULL OR failed_at >= queued_at),
  CONSTRAINT output_valid_only_for_completed CHECK (output IS NULL OR status = ANY (ARRAY['completed'::text, 'failed'::text])),
  CONSTRAINT valid_status CHECK (status = ANY (ARRAY['queued'::text, 'started'::text, 'completed'::text, 'failed'::text, 'skipped'::text, 'cancelled'::text])),
  CONSTRAINT completed_at_is_after_started_at CHECK (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at),
  CONSTRAINT failed_at_is_after_started_at CHECK (failed_at IS NULL OR started_at IS NULL OR failed_at >= started_at),
  CONSTRAINT started_at_is_after_queued_at CHECK (started_at IS NULL OR started_at >= queued_at)
);
-- Each index only when missing: CREATE INDEX IF NOT EXISTS would take a SHARE lock on the
-- table even when the index exists, and hold it to the end of the install's transaction, where
-- it deadlocks with running flows (a re-install while workers run).
DO $indexes$
BEGIN
  IF to_regclass('pgflow.idx_step_tasks_completed') IS NULL THEN
    CREATE INDEX idx_step_tasks_completed ON pgflow.step_tasks (run_id, step_slug) WHERE status = 'completed'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_failed') IS NULL THEN
    CREATE INDEX idx_step_tasks_failed ON pgflow.step_tasks (run_id, step_slug) WHERE status = 'failed'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_flow_run_step') IS NULL THEN
    CREATE INDEX idx_step_tasks_flow_run_step ON pgflow.step_tasks (flow_slug, run_id, step_slug);
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_message_id') IS NULL THEN
    CREATE INDEX idx_step_tasks_message_id ON pgflow.step_tasks (message_id);
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_queued') IS NULL THEN
    CREATE INDEX idx_step_tasks_queued ON pgflow.step_tasks (run_id, step_slug) WHERE status = 'queued'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_last_worker') IS NULL THEN
    CREATE INDEX idx_step_tasks_last_worker ON pgflow.step_tasks (last_worker_id) WHERE status = 'started'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_queued_msg') IS NULL THEN
    CREATE INDEX idx_step_tasks_queued_msg ON pgflow.step_tasks (message_id) WHERE status = 'queued'::text;
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_started') IS NULL THEN
    CREATE INDEX idx_step_tasks_started ON pgflow.step_tasks (started_at) WHERE status = 'started'::text;
  END IF;
END
$indexes$;
