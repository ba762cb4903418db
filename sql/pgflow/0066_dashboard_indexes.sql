-- (Addition.) Indexes of the dashboard's queries (include/pgflow/dashboard/queries.hpp), so that its
-- pages stay fast with millions of runs: the run list, newest first, paginated on
-- (started_at, run_id), over all runs, one status's, one flow's (read status by status, so that
-- the same index counts a flow's runs by status from the index alone); and the completed and
-- failed tasks per minute of the throughput chart. pgflow 0.8.1 has none of them; its own indexes on
-- runs (flow_slug) and (status) stay, under their names.
-- Each index only when missing: CREATE INDEX IF NOT EXISTS would take a SHARE lock on the
-- table even when the index exists, and hold it to the end of the install's transaction, where
-- it deadlocks with running flows (a re-install while workers run).
DO $indexes$
BEGIN
  IF to_regclass('pgflow.idx_runs_started_at') IS NULL THEN
    CREATE INDEX idx_runs_started_at ON pgflow.runs (started_at, run_id);
  END IF;
  IF to_regclass('pgflow.idx_runs_flow_slug_status_started_at') IS NULL THEN
    CREATE INDEX idx_runs_flow_slug_status_started_at ON pgflow.runs (flow_slug, status, started_at, run_id);
  END IF;
  IF to_regclass('pgflow.idx_runs_status_started_at') IS NULL THEN
    CREATE INDEX idx_runs_status_started_at ON pgflow.runs (status, started_at, run_id);
  END IF;
  IF to_regclass('pgflow.idx_step_tasks_finished_at') IS NULL THEN
    CREATE INDEX idx_step_tasks_finished_at ON pgflow.step_tasks ((coalesce(completed_at, failed_at)))
      WHERE status IN ('completed', 'failed');
  END IF;
END
$indexes$;
