-- pgflow_cpp.notify(channel, payload) -> void, and deferred notifications.
-- Every NOTIFY of this schema (run events, queue wake-ups) goes through pgflow_cpp.notify.
--
-- Why deferral exists: PostgreSQL serializes the commits of all transactions that issued a NOTIFY
-- on one database-wide lock, held from the start of the commit to its end, WAL flush included.
-- Every start_flow and every completion notifies, so under load each of them queues for that lock
-- behind the others' fsyncs (the benchmark's single-step runs spent 63-83 % of their active time
-- waiting on it), whereas transactions that do not notify share WAL flushes (group commit).
--
-- By default pgflow_cpp.notify calls pg_notify at once, in the caller's transaction, as pgflow's
-- clients and psql users expect. A transaction that sets
--   set_config('pgflow_cpp.defer_notifications', 'on', true)
-- instead records its notifications in the unlogged table pgflow_cpp.deferred_notifications, and
-- whoever made it calls pgflow_cpp.publish_deferred_notifications() in a second transaction
-- right after the commit (pgflow-cpp's worker and client pipeline both in one round trip). That
-- second transaction writes no WAL (the table is unlogged), so it holds the NOTIFY lock for
-- microseconds instead of an fsync. A session that dies between the two leaves its rows for the
-- next publication by any session (workers also publish on every heartbeat), so no event is lost
-- short of a server crash, which drops every LISTEN anyway.
-- Rows live for milliseconds; autovacuum must keep up with the churn.
CREATE UNLOGGED TABLE IF NOT EXISTS pgflow_cpp.deferred_notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel text NOT NULL,
  payload text NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000);
GRANT SELECT, INSERT, DELETE ON pgflow_cpp.deferred_notifications TO PUBLIC;
-- Its identity sequence is logged, although PostgreSQL 15+ makes it unlogged with the table: on a
-- promoted standby an unlogged sequence created after the base backup is all zeroes ("bad magic
-- number in sequence", seen on 15.18), which would fail every deferring start and completion
-- after a fail-over. A logged sequence costs one WAL record per 32 values.
DO $$
DECLARE
  seq regclass := pg_get_serial_sequence('pgflow_cpp.deferred_notifications', 'id')::regclass;
BEGIN
  IF (SELECT c.relpersistence FROM pg_class AS c WHERE c.oid = seq) = 'u' THEN
    EXECUTE format('ALTER SEQUENCE %s SET LOGGED', seq);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION pgflow_cpp.notify(channel text, payload text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
BEGIN
  IF current_setting('pgflow_cpp.defer_notifications', true) = 'on' THEN
    INSERT INTO pgflow_cpp.deferred_notifications (channel, payload)
    VALUES (notify.channel, notify.payload);
  ELSE
    PERFORM pg_notify(notify.channel, notify.payload);
  END IF;
END;
$$;

-- pgflow_cpp.publish_deferred_notifications(max_count) -> integer
-- NOTIFYs up to max_count deferred notifications, oldest first, and removes them; returns how
-- many. Rows another session is publishing at the same time are skipped, not waited for. Commits
-- asynchronously: it changes nothing durable, and a notification is delivered at commit anyway.
CREATE OR REPLACE FUNCTION pgflow_cpp.publish_deferred_notifications(max_count integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
  published integer;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  -- pg_notify is volatile, so it runs after the sort: oldest first.
  WITH taken AS (
    DELETE FROM pgflow_cpp.deferred_notifications AS d
    WHERE d.id IN (SELECT q.id FROM pgflow_cpp.deferred_notifications AS q
                   ORDER BY q.id
                   LIMIT greatest(publish_deferred_notifications.max_count, 0)
                   FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.channel, d.payload
  )
  SELECT count(*) INTO published
  FROM (SELECT pg_notify(t.channel, t.payload) FROM taken AS t ORDER BY t.id) AS sent;
  RETURN published;
END;
$$;
