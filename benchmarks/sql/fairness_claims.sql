-- Fairness of claims within one flow: a run whose map has :map_size tasks is started, then
-- :small runs of one task each; workers claim (pgflow_cpp.read_and_start_tasks, qty 10) until every
-- small run's task is claimed. Prints how many claims (and map tasks) went before the first and
-- the last small run's task. Runs on any database with read_and_start_tasks (before flow control:
-- FIFO by message id, so all the map's tasks go first).
--   psql -X -q -v ON_ERROR_STOP=1 -d <db> [-v map_size=10000] [-v small=20] -f benchmarks/sql/fairness_claims.sql
\if :{?map_size}
\else
\set map_size 10000
\endif
\if :{?small}
\else
\set small 20
\endif
SET client_min_messages = warning;

SELECT pgflow.create_flow('fair_bench') \gset
SELECT pgflow.add_step('fair_bench', 'items', step_type => 'map') \gset
INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
VALUES ('00000000-0000-0000-0000-0000000fa1e0', 'fair_bench', 'fairness') ON CONFLICT DO NOTHING;
SELECT count(*) FROM pgflow.start_flow('fair_bench', (SELECT jsonb_agg(i) FROM generate_series(1, :map_size) AS i)) \gset
SELECT count(*) FROM (SELECT pgflow.start_flow('fair_bench', '[0]') FROM generate_series(1, :small)) AS s \gset

CREATE TEMP TABLE claims (claim int, run_id uuid, small boolean);
DO $$
DECLARE
  n int := 0;
  left_small int;
BEGIN
  LOOP
    n := n + 1;
    INSERT INTO claims
    SELECT n, c.run_id, r.input = '[0]'::jsonb
    FROM pgflow_cpp.read_and_start_tasks('fair_bench', 60, 10, '00000000-0000-0000-0000-0000000fa1e0') AS c
    JOIN pgflow.runs AS r ON r.run_id = c.run_id;
    SELECT count(*) INTO left_small FROM pgflow.step_tasks AS t JOIN pgflow.runs AS r ON r.run_id = t.run_id
    WHERE t.flow_slug = 'fair_bench' AND t.status = 'queued' AND r.input = '[0]'::jsonb;
    EXIT WHEN left_small = 0 OR n > 100000;
  END LOOP;
END
$$;
SELECT (SELECT min(claim) FROM claims WHERE small) AS claim_of_first_small_run,
       (SELECT max(claim) FROM claims WHERE small) AS claim_of_last_small_run,
       (SELECT count(*) FROM claims WHERE NOT small
        AND claim < (SELECT max(claim) FROM claims WHERE small)) AS map_tasks_claimed_before_it;
