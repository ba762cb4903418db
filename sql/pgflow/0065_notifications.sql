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
-- Only the owner touches the rows, through notify and publish_deferred_notifications (SECURITY
-- DEFINER, see 0950_privileges.sql): they carry run inputs and outputs. Earlier installs granted
-- PUBLIC SELECT, INSERT, DELETE here.
REVOKE ALL ON pgflow_cpp.deferred_notifications FROM PUBLIC;
-- What NOTIFY accepts (a channel of 1-63 bytes, a payload under 8000 bytes), checked where a row
-- is recorded: a row NOTIFY refuses would fail every publication that took it. Rows an earlier
-- install let in are dropped (NOTIFY would never send them).
DO $checks$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'pgflow_cpp.deferred_notifications'::regclass
                   AND conname = 'deferred_notifications_notify_limits') THEN
    DELETE FROM pgflow_cpp.deferred_notifications AS d
    WHERE NOT (octet_length(d.channel) BETWEEN 1 AND 63 AND octet_length(d.payload) < 8000);
    ALTER TABLE pgflow_cpp.deferred_notifications
      ADD CONSTRAINT deferred_notifications_notify_limits
      CHECK (octet_length(channel) BETWEEN 1 AND 63 AND octet_length(payload) < 8000);
  END IF;
END
$checks$;
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

-- A queue wake-up (channel pgflow:queue:<flow>) is also noted in the transaction-local setting
-- pgflow_cpp.woken_queues, ' <flow> <flow> ', each flow once: a worker reads it at the end of its
-- completion statement to learn whether its own completions queued tasks of its flow (it then ends
-- its claim linger, include/pgflow/runtime/worker_session.hpp). It goes with the transaction.
CREATE OR REPLACE FUNCTION pgflow_cpp.notify(channel text, payload text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
AS $$
DECLARE
  recorded bigint;
  woken text;
BEGIN
  IF left(notify.channel, 13) = 'pgflow:queue:' THEN
    woken := coalesce(nullif(current_setting('pgflow_cpp.woken_queues', true), ''), ' ');
    IF position(' ' || substr(notify.channel, 14) || ' ' IN woken) = 0 THEN
      PERFORM set_config('pgflow_cpp.woken_queues', woken || substr(notify.channel, 14) || ' ', true);
    END IF;
  END IF;
  IF current_setting('pgflow_cpp.defer_notifications', true) = 'on' THEN
    -- pg_notify's own checks and errors, so that deferring fails exactly where notifying would.
    IF coalesce(notify.channel, '') = '' THEN
      RAISE EXCEPTION 'channel name cannot be empty' USING ERRCODE = 'invalid_parameter_value';
    ELSIF octet_length(notify.channel) > 63 THEN
      RAISE EXCEPTION 'channel name too long' USING ERRCODE = 'invalid_parameter_value';
    ELSIF octet_length(notify.payload) >= 8000 THEN
      RAISE EXCEPTION 'payload string too long' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO pgflow_cpp.deferred_notifications (channel, payload)
    VALUES (notify.channel, coalesce(notify.payload, ''))
    RETURNING id INTO recorded;
    -- Where this session's next publication starts (see publish_deferred_notifications); a
    -- session-level setting, so that it outlives this transaction, and is undone with it.
    IF coalesce(current_setting('pgflow_cpp.deferred_from', true), '') = '' THEN
      PERFORM set_config('pgflow_cpp.deferred_from', recorded::text, false);
    END IF;
  ELSE
    PERFORM pg_notify(notify.channel, notify.payload);
  END IF;
END;
$$;

-- pgflow_cpp.publish_deferred_notifications(max_count) -> integer
-- NOTIFYs up to max_count deferred notifications, oldest first, and removes them; returns how
-- many. Rows another session is publishing at the same time are skipped, not waited for. Commits
-- asynchronously: it changes nothing durable, and a notification is delivered at commit anyway.
-- Runs as the owner (0950_privileges.sql); EXECUTE is granted to the roles that defer.
-- It reads from the first row this session deferred since its last publication
-- (pgflow_cpp.deferred_from, set by notify), not from the oldest: while a long transaction holds
-- vacuum back, the rows earlier publications deleted stay in the index, and scanning them made
-- every publication slower as they piled up (0.06 -> 0.8-0.9 ms within 4,000 publications,
-- benchmarks/sql/deferred_publish_held.sql). A session with nothing deferred, and any session at
-- most every 5 s, reads from the oldest row: rows a session left when it died are not forgotten.
CREATE OR REPLACE FUNCTION pgflow_cpp.publish_deferred_notifications(max_count integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER  -- runs as the schema owner: see 0950_privileges.sql
SET search_path = ''
-- The rows are found through the primary key only: statistics taken after a burst make a
-- sequential scan look cheaper, and it reads every dead row vacuum has not removed yet.
SET enable_seqscan = off
AS $$
DECLARE
  published integer;
  from_id bigint := nullif(current_setting('pgflow_cpp.deferred_from', true), '')::bigint;
  swept_at float8 := nullif(current_setting('pgflow_cpp.deferred_swept_at', true), '')::float8;
  now_epoch float8 := extract(epoch FROM clock_timestamp());
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF from_id IS NULL OR swept_at IS NULL OR now_epoch - swept_at >= 5 THEN
    from_id := 0;
    PERFORM set_config('pgflow_cpp.deferred_swept_at', now_epoch::text, false);
  END IF;
  -- pg_notify is volatile, so it runs after the sort: oldest first.
  WITH taken AS (
    DELETE FROM pgflow_cpp.deferred_notifications AS d
    WHERE d.id = ANY (ARRAY(SELECT q.id FROM pgflow_cpp.deferred_notifications AS q
                            WHERE q.id >= from_id
                            ORDER BY q.id
                            LIMIT greatest(publish_deferred_notifications.max_count, 0)
                            FOR UPDATE SKIP LOCKED))
    RETURNING d.id, d.channel, d.payload
  )
  -- A row NOTIFY would refuse (the table's CHECK keeps them out; this holds without it too) is
  -- removed unsent rather than failing the publication of every other row.
  SELECT count(*) INTO published
  FROM (SELECT pg_notify(t.channel, t.payload) FROM taken AS t
        WHERE octet_length(t.channel) BETWEEN 1 AND 63 AND octet_length(t.payload) < 8000
        ORDER BY t.id) AS sent;
  -- All taken (fewer than max_count): the next publication starts from the next deferred row.
  IF published < max_count THEN
    PERFORM set_config('pgflow_cpp.deferred_from', '', false);
  END IF;
  RETURN published;
END;
$$;
