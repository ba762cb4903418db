-- Flow control (issue 16): concurrency limits, rate limits, run limits, priorities. Everything
-- lives in pgflow_cpp (pgflow keeps 0.8.1's tables); a flow that declares nothing has no row in
-- any of these tables and is claimed and started exactly as before. New tables only, so an
-- existing install gains them through CREATE TABLE IF NOT EXISTS (no ALTER of an existing table).

-- Per step (pgflow_cpp.set_step_limits): at most max_concurrency tasks of the step 'started' at
-- once; at most max_per_key per value of the run input at concurrency_key (input #>> key); every
-- start counts against the named rate limit. Goes with its step (a flow deleted with its steps).
CREATE TABLE IF NOT EXISTS pgflow_cpp.step_limits (
  flow_slug text NOT NULL,
  step_slug text NOT NULL,
  max_concurrency integer NULL,
  concurrency_key text[] NULL,
  max_per_key integer NULL,
  rate_limit text NULL,
  CONSTRAINT step_limits_pkey PRIMARY KEY (flow_slug, step_slug),
  CONSTRAINT step_limits_step_fkey FOREIGN KEY (flow_slug, step_slug)
    REFERENCES pgflow.steps (flow_slug, step_slug) ON DELETE CASCADE,
  CONSTRAINT step_limits_max_concurrency_check CHECK (max_concurrency IS NULL OR max_concurrency > 0),
  CONSTRAINT step_limits_max_per_key_check CHECK (max_per_key IS NULL OR max_per_key > 0),
  CONSTRAINT step_limits_key_and_max_per_key CHECK ((concurrency_key IS NULL) = (max_per_key IS NULL))
);

-- The concurrency slots a limited step's started tasks hold: a row per task claimed under a limit,
-- with the task's key value. A slot is live while its task is 'started'; rows whose task has moved
-- on (completed, failed, queued for a retry, cancelled, pruned) are deleted by the next claim of
-- the step, under the step's limits row lock, before it counts. So no completion path needs to
-- know about limits, and a claim's extra work is O(max_concurrency).
CREATE TABLE IF NOT EXISTS pgflow_cpp.task_slots (
  flow_slug text NOT NULL,
  step_slug text NOT NULL,
  run_id uuid NOT NULL,
  task_index integer NOT NULL,
  key text NULL,
  CONSTRAINT task_slots_pkey PRIMARY KEY (run_id, step_slug, task_index)
);
DO $indexes$
BEGIN
  IF to_regclass('pgflow_cpp.idx_task_slots_step') IS NULL THEN
    CREATE INDEX idx_task_slots_step ON pgflow_cpp.task_slots (flow_slug, step_slug);
  END IF;
END
$indexes$;

-- Named rate limits (pgflow_cpp.set_rate_limit): at most max_starts task starts in any sliding
-- window of per_seconds, over every step naming it. rate_limit_starts logs the starts of the last
-- window (older ones are deleted by the next claim that counts them).
CREATE TABLE IF NOT EXISTS pgflow_cpp.rate_limits (
  name text NOT NULL,
  max_starts integer NOT NULL,
  per_seconds numeric NOT NULL,
  CONSTRAINT rate_limits_pkey PRIMARY KEY (name),
  CONSTRAINT rate_limits_max_starts_check CHECK (max_starts > 0),
  CONSTRAINT rate_limits_per_seconds_check CHECK (per_seconds > 0 AND per_seconds < 'Infinity')
);
-- Upgrade: earlier installs checked per_seconds > 0 only, which NaN passes (PostgreSQL sorts it
-- above every number); NaN and Infinity windows fail every claim of the steps naming them (interval
-- out of range). Such rows are dropped, with a warning (their steps' starts are then unlimited
-- until set_rate_limit sets the limit again), and the tighter check replaces the old one.
DO $checks$
DECLARE
  dropped text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                 WHERE c.conrelid = 'pgflow_cpp.rate_limits'::regclass AND c.conname = 'rate_limits_per_seconds_check'
                   AND pg_get_constraintdef(c.oid) LIKE '%Infinity%') THEN
    WITH d AS (DELETE FROM pgflow_cpp.rate_limits AS l WHERE NOT (l.per_seconds > 0 AND l.per_seconds < 'Infinity')
               RETURNING l.name)
    SELECT string_agg(format('%L', d.name), ', ' ORDER BY d.name) INTO dropped FROM d;
    IF dropped IS NOT NULL THEN
      RAISE WARNING 'pgflow_cpp.rate_limits: dropped the rate limits % (per_seconds NaN or infinite); set them again with pgflow_cpp.set_rate_limit',
        dropped;
    END IF;
    ALTER TABLE pgflow_cpp.rate_limits DROP CONSTRAINT IF EXISTS rate_limits_per_seconds_check;
    ALTER TABLE pgflow_cpp.rate_limits
      ADD CONSTRAINT rate_limits_per_seconds_check CHECK (per_seconds > 0 AND per_seconds < 'Infinity');
  END IF;
END
$checks$;
CREATE TABLE IF NOT EXISTS pgflow_cpp.rate_limit_starts (
  name text NOT NULL,
  started_at timestamptz NOT NULL
);
DO $indexes$
BEGIN
  IF to_regclass('pgflow_cpp.idx_rate_limit_starts') IS NULL THEN
    CREATE INDEX idx_rate_limit_starts ON pgflow_cpp.rate_limit_starts (name, started_at);
  END IF;
END
$indexes$;

-- Per flow (pgflow_cpp.set_flow_limits): at most max_concurrent_runs runs admitted and not
-- finished; at most max_runs_per_key per value of input #>> concurrency_key.
CREATE TABLE IF NOT EXISTS pgflow_cpp.flow_limits (
  flow_slug text NOT NULL,
  max_concurrent_runs integer NULL,
  concurrency_key text[] NULL,
  max_runs_per_key integer NULL,
  CONSTRAINT flow_limits_pkey PRIMARY KEY (flow_slug),
  CONSTRAINT flow_limits_flow_fkey FOREIGN KEY (flow_slug) REFERENCES pgflow.flows (flow_slug) ON DELETE CASCADE,
  CONSTRAINT flow_limits_max_concurrent_runs_check CHECK (max_concurrent_runs IS NULL OR max_concurrent_runs > 0),
  CONSTRAINT flow_limits_max_runs_per_key_check CHECK (max_runs_per_key IS NULL OR max_runs_per_key > 0),
  CONSTRAINT flow_limits_key_and_max_per_key CHECK ((concurrency_key IS NULL) = (max_runs_per_key IS NULL))
);

-- The unfinished runs of flows with run limits: admitted_at NULL while the run waits (created,
-- 'started' in pgflow.runs, but no step started: no task to claim). seq is the start order.
-- A row goes when its run finishes (trigger on pgflow.runs, 0610_run_admission.sql) or is deleted.
CREATE TABLE IF NOT EXISTS pgflow_cpp.limited_runs (
  run_id uuid NOT NULL,
  flow_slug text NOT NULL,
  key text NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  admitted_at timestamptz NULL,
  CONSTRAINT limited_runs_pkey PRIMARY KEY (run_id),
  CONSTRAINT limited_runs_run_fkey FOREIGN KEY (run_id) REFERENCES pgflow.runs (run_id) ON DELETE CASCADE
);
DO $indexes$
BEGIN
  IF to_regclass('pgflow_cpp.idx_limited_runs_flow') IS NULL THEN
    CREATE INDEX idx_limited_runs_flow ON pgflow_cpp.limited_runs (flow_slug, key);
  END IF;
END
$indexes$;

-- Priorities of unfinished runs started with a priority other than 0 (start_flow_with_priority);
-- a run without a row has priority 0. A row goes when its run finishes.
CREATE TABLE IF NOT EXISTS pgflow_cpp.run_priorities (
  run_id uuid NOT NULL,
  flow_slug text NOT NULL,
  priority integer NOT NULL,
  CONSTRAINT run_priorities_pkey PRIMARY KEY (run_id)
);
DO $indexes$
BEGIN
  IF to_regclass('pgflow_cpp.idx_run_priorities_flow') IS NULL THEN
    CREATE INDEX idx_run_priorities_flow ON pgflow_cpp.run_priorities (flow_slug);
  END IF;
END
$indexes$;
