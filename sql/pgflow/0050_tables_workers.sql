-- Worker registry, written by workers themselves (start_tasks' last_worker_id refers to it).
CREATE TABLE IF NOT EXISTS pgflow.workers (
  worker_id uuid NOT NULL,
  queue_name text NOT NULL,
  function_name text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  deprecated_at timestamptz NULL,
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT workers_pkey PRIMARY KEY (worker_id)
);
-- Each index only when missing: CREATE INDEX IF NOT EXISTS would take a SHARE lock on the
-- table even when the index exists, and hold it to the end of the install's transaction, where
-- it deadlocks with running flows (a re-install while workers run).
DO $indexes$
BEGIN
  IF to_regclass('pgflow.idx_workers_queue_name') IS NULL THEN
    CREATE INDEX idx_workers_queue_name ON pgflow.workers (queue_name);
  END IF;
  IF to_regclass('pgflow.idx_workers_heartbeat') IS NULL THEN
    CREATE INDEX idx_workers_heartbeat ON pgflow.workers (last_heartbeat_at);
  END IF;
END
$indexes$;
