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
CREATE INDEX IF NOT EXISTS idx_workers_queue_name ON pgflow.workers (queue_name);
CREATE INDEX IF NOT EXISTS idx_workers_heartbeat ON pgflow.workers (last_heartbeat_at);
