-- Schedules (pgflow-cpp's addition, schema pgflow_cpp; docs/schedules.md): cron-style schedules
-- stored in the database, started by pgflow_cpp.run_due_schedules, which whichever scheduler holds
-- pgflow_cpp.scheduler_lease calls. The database is the source of truth for "due": next_run_at
-- is computed here (pgflow_cpp.cron_next_run), so every client agrees on it.
--   kind 'flow'   starts flow_slug with input at each tick (pgflow.start_flow);
--   kind 'prune'  calls pgflow.prune_data_older_than(retention) at each tick.
--   catch_up      after downtime: 'one' starts a single run for the whole missed window (recorded
--                 at its first missed tick), 'all' one run per missed tick, oldest first.
--   next_run_at   the next tick not yet started; last_run_at the last tick started.
CREATE TABLE IF NOT EXISTS pgflow_cpp.schedules (
  schedule_id bigint GENERATED ALWAYS AS IDENTITY,
  name text NOT NULL,
  kind text NOT NULL DEFAULT 'flow',
  flow_slug text NULL,
  input jsonb NOT NULL DEFAULT '{}',
  retention interval NULL,
  cron text NOT NULL,
  time_zone text NOT NULL DEFAULT 'UTC',
  catch_up text NOT NULL DEFAULT 'one',
  enabled boolean NOT NULL DEFAULT true,
  next_run_at timestamptz NOT NULL,
  last_run_at timestamptz NULL,
  last_run_id uuid NULL,
  last_error text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_pkey PRIMARY KEY (schedule_id),
  CONSTRAINT schedules_name_key UNIQUE (name),
  CONSTRAINT schedules_name_check CHECK (name <> ''),
  CONSTRAINT schedules_kind_check CHECK (kind IN ('flow', 'prune')),
  CONSTRAINT schedules_flow_slug_check CHECK ((kind = 'flow') = (flow_slug IS NOT NULL)),
  CONSTRAINT schedules_retention_check CHECK ((kind = 'prune') = (retention IS NOT NULL)),
  CONSTRAINT schedules_catch_up_check CHECK (catch_up IN ('one', 'all'))
);
CREATE INDEX IF NOT EXISTS idx_schedules_due ON pgflow_cpp.schedules (next_run_at) WHERE enabled;

-- One row per tick started: the primary key is why a tick can never start twice, whatever races
-- (two schedulers, a scheduler that died mid-tick and its successor). run_id is the run started
-- (NULL for a prune tick or when starting failed: error says why); the row goes with its run
-- when retention prunes it, and with its schedule when the schedule is removed.
CREATE TABLE IF NOT EXISTS pgflow_cpp.schedule_runs (
  schedule_id bigint NOT NULL,
  schedule_name text NOT NULL,
  scheduled_at timestamptz NOT NULL,
  run_id uuid NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  error text NULL,
  CONSTRAINT schedule_runs_pkey PRIMARY KEY (schedule_id, scheduled_at),
  CONSTRAINT schedule_runs_schedule_id_fkey FOREIGN KEY (schedule_id)
    REFERENCES pgflow_cpp.schedules (schedule_id) ON DELETE CASCADE,
  CONSTRAINT schedule_runs_run_id_fkey FOREIGN KEY (run_id) REFERENCES pgflow.runs (run_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_schedule_runs_run_id ON pgflow_cpp.schedule_runs (run_id);

-- The scheduler election: at most one row, held by `holder` until expires_at (database clock).
-- Only an efficiency measure: correctness (one run per tick) rests on schedule_runs' key.
CREATE TABLE IF NOT EXISTS pgflow_cpp.scheduler_lease (
  singleton boolean NOT NULL DEFAULT true,
  holder text NOT NULL,
  acquired_at timestamptz NOT NULL,
  renewed_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT scheduler_lease_pkey PRIMARY KEY (singleton),
  CONSTRAINT scheduler_lease_singleton_check CHECK (singleton)
);
