-- What a long transaction does to publishing deferred notifications: one backend defers two
-- notifications and publishes them, 4,000 times, each in transactions of its own, first while
-- another session (dblink) holds a snapshot with a transaction id (vacuum can remove no row
-- deleted meanwhile), then without it. Prints the mean publication time per 1,000 publications.
-- Needs dblink and pgflow-cpp's SQL installed:
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> -f benchmarks/sql/deferred_publish_held.sql
-- Measured (2026-12-04, 2 cores under load, two runs each): before publications started from
-- their session's first deferred row, 0.17-0.19 ms per publication over the first 1,000 and
-- 0.79-0.93 ms over the fourth with the snapshot held (0.04-0.08 without); after, 0.06-0.07 ms
-- with the snapshot held, 0.04-0.06 without.
SET client_min_messages = warning;
SELECT dblink_connect('holder', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                      coalesce(host(inet_server_addr()), split_part(current_setting('unix_socket_directories'), ',', 1))))
\gset
SELECT dblink_exec('holder', 'BEGIN ISOLATION LEVEL REPEATABLE READ') \gset
SELECT t AS holder_xid FROM dblink('holder', 'SELECT txid_current()') AS x(t bigint) \gset
CREATE TEMP TABLE publication_cost (held boolean, publications int, ms float8);
CREATE PROCEDURE pg_temp.publish_often(held boolean)
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  total float8 := 0;
BEGIN
  FOR i IN 1..4000 LOOP
    PERFORM set_config('pgflow_cpp.defer_notifications', 'on', true);
    PERFORM pgflow_cpp.notify('pgflow:bench:held', '{"n": 1}');
    PERFORM pgflow_cpp.notify('pgflow:bench:held', '{"n": 2}');
    COMMIT;
    t0 := clock_timestamp();
    PERFORM pgflow_cpp.publish_deferred_notifications();
    total := total + extract(epoch FROM clock_timestamp() - t0) * 1000;
    COMMIT;
    IF i % 1000 = 0 THEN
      INSERT INTO publication_cost VALUES (held, i, total / 1000);
      total := 0;
      COMMIT;
    END IF;
  END LOOP;
END;
$$;
CALL pg_temp.publish_often(true);
SELECT dblink_exec('holder', 'COMMIT') \gset
SELECT dblink_disconnect('holder') \gset
VACUUM pgflow_cpp.deferred_notifications;
CALL pg_temp.publish_often(false);
SELECT CASE WHEN held THEN 'snapshot held' ELSE 'no snapshot held' END AS "while",
       publications AS "after publications", round(ms::numeric, 3) AS "ms per publication"
FROM publication_cost ORDER BY held DESC, publications;
