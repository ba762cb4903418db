-- Decides which queue implementation install.sql installs, from the GUC pgflow.install_queue:
--   'builtin'   -> the project's own pgmq-compatible queue (files in this folder);
--   'extension' -> CREATE EXTENSION pgmq (1.5 or newer must be available or already installed);
--   'auto'      -> keep whatever an earlier install used; else the extension when pgmq >= 1.5 is
--                  available; else the built-in queue.
-- One statement returning one boolean column, pgflow_builtin_queue, ended by \gset: psql stores it
-- in a variable for install.sql's \if; the C++ installer runs the statement without the \gset.
-- Impossible requests fail here with a message naming the problem (it travels as the text of a
-- failed cast, as a plain SELECT cannot RAISE).
SELECT CASE
         WHEN setting NOT IN ('auto', 'builtin', 'extension') THEN
           CAST(format('pgflow install: queue must be auto, builtin or extension, not "%s"', setting) AS boolean)
         WHEN setting = 'builtin' AND ext_installed THEN
           CAST(format('pgflow install: queue=%s requested, but the pgmq extension is already installed in this database', setting) AS boolean)
         WHEN setting = 'extension' AND builtin_installed THEN
           CAST(format('pgflow install: queue=%s requested, but the built-in pgmq-compatible queue is already installed in this database', setting) AS boolean)
         WHEN setting = 'extension' AND NOT ext_installed AND NOT ext_available THEN
           CAST(format('pgflow install: queue=%s requested, but pg_available_extension_versions has no pgmq 1.5 or newer', setting) AS boolean)
         WHEN setting = 'builtin' THEN true
         WHEN setting = 'extension' THEN false
         WHEN ext_installed THEN false
         WHEN builtin_installed THEN true
         ELSE NOT ext_available
       END AS pgflow_builtin_queue
FROM (
  SELECT coalesce(nullif(current_setting('pgflow.install_queue', true), ''), 'auto') AS setting,
         EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pgmq') AS ext_installed,
         NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pgmq')
           AND to_regclass('pgmq.meta') IS NOT NULL AS builtin_installed,
         EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions
                  WHERE name = 'pgmq'
                    AND version ~ '^[0-9]+(\.[0-9]+)*$'
                    AND string_to_array(version, '.')::int[] >= ARRAY[1, 5]) AS ext_available
) AS facts \gset
