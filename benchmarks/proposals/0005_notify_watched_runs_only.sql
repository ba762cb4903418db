-- Proposal 0005 (speed): NOTIFY a run's events only while someone watches that run.
--
-- Every run event is pg_notify'd (decisions.md #3). PostgreSQL serializes the commits of all
-- notifying transactions on one database-wide lock held until the end of the commit (WAL flush
-- included), so every start_flow and every step completion of every run queues behind it, watched
-- or not. Single-step runs at 4 workers: 68 % of the active backends wait on that lock
-- ("Lock:object") and throughput is 145-165 tasks/s; with the events not NOTIFY'd, 534-572
-- (pgflow 0.8.1's SQL on the same machine: 389-578). See README.md in this folder.
--
-- The change: a registry of watched runs, and pgflow_cpp.broadcast notifies only runs in it.
-- A client that waits for a run (pgflow::client's wait, the CLI) inserts (run_id) before it LISTENs
-- and re-reads the run, and deletes its row when it stops waiting; a client starting a run it will
-- wait for registers the run id it chose before start_flow, so it also gets run:started. A row left
-- by a crashed client only costs that run its notifications (stale rows can be deleted by age).
-- realtime.send, when present, is called for every event as before.
CREATE TABLE IF NOT EXISTS pgflow_cpp.run_watchers (
  run_id uuid NOT NULL,
  watcher_pid integer NOT NULL DEFAULT pg_backend_pid(),
  since timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, watcher_pid)
);

DO $proposal$
DECLARE
  def text := pg_get_functiondef('pgflow_cpp.broadcast(jsonb, text, uuid)'::regprocedure);
  fixed text;
BEGIN
  fixed := replace(def,
    $old$  PERFORM pg_notify(topic, notification);$old$,
    $new$  -- Only watched runs: NOTIFY serializes every notifying commit of the database.
  IF EXISTS (SELECT 1 FROM pgflow_cpp.run_watchers AS w WHERE w.run_id = broadcast.run_id) THEN
    PERFORM pg_notify(topic, notification);
  END IF;$new$);
  IF fixed = def THEN
    RAISE WARNING 'proposal 0005 does not apply: pgflow_cpp.broadcast no longer ends with pg_notify(topic, notification)';
    RETURN;
  END IF;
  EXECUTE fixed;
END
$proposal$;
