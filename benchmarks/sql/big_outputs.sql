-- The last completion of a map step whose tasks returned big outputs: the transaction that
-- aggregates them into the step's output (its step:completed event) and into the run's output.
-- Uses only pgflow 0.8.1's API (create_flow, add_step, start_flow, pgmq.read, start_tasks,
-- complete_task), so it runs on pgflow-cpp's SQL and on pgflow 0.8.1's alike. Each of `tasks`
-- tasks but the last returns an array of `strings` md5 strings (36 bytes each as text); prints
-- one TSV row: strings per task, tasks, megabytes of the run output, milliseconds of the last
-- complete_task, and the run's status.
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v strings=100000] [-v tasks=6] -f benchmarks/sql/big_outputs.sql
\if :{?strings}
\else
\set strings 100000
\endif
\if :{?tasks}
\else
\set tasks 6
\endif
SET client_min_messages = warning;
\pset format unaligned
\pset fieldsep '\t'
\pset tuples_only on
\o /dev/null
SELECT pgflow.create_flow('big_outputs');
SELECT pgflow.add_step('big_outputs', 'm', ARRAY[]::text[], step_type => 'map');
INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
VALUES ('00000000-0000-0000-0000-0000000b0001', 'big_outputs', 'big_outputs');
SELECT pgflow.start_flow('big_outputs', to_jsonb(ARRAY(SELECT g FROM generate_series(1, :tasks) AS g)),
                         '00000000-0000-0000-0000-0000000b0002');
SELECT count(*) FROM pgflow.start_tasks('big_outputs', ARRAY(SELECT m.msg_id FROM pgmq.read('big_outputs', 600, :tasks) AS m),
                                        '00000000-0000-0000-0000-0000000b0001');
SELECT count(*)
FROM generate_series(0, :tasks - 2) AS i
CROSS JOIN LATERAL pgflow.complete_task('00000000-0000-0000-0000-0000000b0002', 'm', i,
  to_jsonb(ARRAY(SELECT md5(g::text || '.' || i) FROM generate_series(1, :strings) AS g))) AS c;
\o
CREATE TEMP TABLE lap (ms float8);
DO $$
DECLARE
  began timestamptz := clock_timestamp();
BEGIN
  PERFORM pgflow.complete_task('00000000-0000-0000-0000-0000000b0002', 'm',
                               (SELECT max(t.task_index) FROM pgflow.step_tasks AS t
                                WHERE t.run_id = '00000000-0000-0000-0000-0000000b0002'), '"last"');
  INSERT INTO lap VALUES (extract(epoch FROM clock_timestamp() - began) * 1000);
END
$$;
SELECT :strings, :tasks, round(octet_length(r.output::text) / 1e6, 1), round(l.ms::numeric, 0), r.status
FROM pgflow.runs AS r, lap AS l
WHERE r.run_id = '00000000-0000-0000-0000-0000000b0002';
