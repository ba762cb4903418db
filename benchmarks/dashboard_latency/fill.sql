-- Fills a pgflow database with :runs runs (default 1,000,000) for the dashboard latency benchmark:
-- three flows, a realistic mix of statuses (85 % completed, 10 % failed, 5 % started), started
-- over the last 30 days, and step states and tasks for one run in :detail_every (default 20).
--   psql -v ON_ERROR_STOP=1 -v runs=1000000 -f benchmarks/dashboard_latency/fill.sql
\if :{?runs}
\else
\set runs 1000000
\endif
\if :{?detail_every}
\else
\set detail_every 20
\endif
SET client_min_messages = warning;
\o /dev/null
SELECT pgflow.create_flow('dash_alpha');
SELECT pgflow.add_step('dash_alpha', 'only');
SELECT pgflow.create_flow('dash_beta', max_attempts => 3);
SELECT pgflow.add_step('dash_beta', 'fetch');
SELECT pgflow.add_step('dash_beta', 'parse', ARRAY['fetch']);
SELECT pgflow.add_step('dash_beta', 'save', ARRAY['parse']);
SELECT pgflow.create_flow('dash_gamma');
SELECT pgflow.add_step('dash_gamma', 'items', step_type => 'map');
SELECT pgflow.add_step('dash_gamma', 'total', ARRAY['items']);
\o

CREATE TEMP TABLE fill_runs AS
SELECT i,
       md5('dash-run-' || i)::uuid AS run_id,
       CASE WHEN i % 10 < 5 THEN 'dash_alpha' WHEN i % 10 < 8 THEN 'dash_beta' ELSE 'dash_gamma' END AS flow_slug,
       CASE WHEN (i / 10) % 100 < 5 THEN 'started' WHEN (i / 10) % 100 < 15 THEN 'failed' ELSE 'completed' END AS status,
       -- run i started i * 30 days / :runs ago: newest first in i.
       now() - make_interval(secs => i * (30.0 * 86400 / :runs)) AS started_at,
       make_interval(secs => 0.05 + (i % 997) / 100.0) AS took
FROM generate_series(1, :runs) AS i;

INSERT INTO pgflow.runs (run_id, flow_slug, status, input, output, remaining_steps, started_at, completed_at, failed_at)
SELECT run_id, flow_slug, status, jsonb_build_object('n', i, 'url', 'https://example.com/' || i),
       CASE WHEN status = 'completed' THEN jsonb_build_object('ok', true, 'n', i) END,
       CASE WHEN status = 'completed' THEN 0 ELSE 1 END,
       started_at,
       CASE WHEN status = 'completed' THEN started_at + took END,
       CASE WHEN status = 'failed' THEN started_at + took END
FROM fill_runs;

-- Step states and tasks for a fraction of the runs: completed runs have every step completed, a
-- failed run's last step failed (after 3 attempts), a started run's first step is started.
CREATE TEMP TABLE fill_steps AS
SELECT r.i, r.run_id, r.flow_slug, s.step_slug, s.step_index, s.step_type,
       max(s.step_index) OVER (PARTITION BY r.run_id) AS last_index, r.status AS run_status,
       r.started_at + make_interval(secs => s.step_index * 0.02) AS at, r.took
FROM fill_runs r JOIN pgflow.steps s USING (flow_slug)
WHERE abs(hashint4(r.i)) % :detail_every = 0;

CREATE TEMP TABLE fill_step_status AS
SELECT *, CASE
            WHEN run_status = 'completed' THEN 'completed'
            WHEN run_status = 'failed' AND step_index = last_index THEN 'failed'
            WHEN run_status = 'failed' THEN 'completed'
            WHEN step_index = 0 THEN 'started'
            ELSE 'created' END AS status,
          CASE WHEN step_type = 'map' THEN 3 ELSE 1 END AS tasks
FROM fill_steps;

INSERT INTO pgflow.step_states (flow_slug, run_id, step_slug, status, remaining_tasks, remaining_deps, created_at,
                                started_at, completed_at, failed_at, error_message, initial_tasks)
SELECT flow_slug, run_id, step_slug, status,
       CASE status WHEN 'completed' THEN 0 WHEN 'created' THEN NULL ELSE tasks END,
       CASE WHEN status = 'created' THEN 1 ELSE 0 END,
       at, CASE WHEN status <> 'created' THEN at END,
       CASE WHEN status = 'completed' THEN at + took END,
       CASE WHEN status = 'failed' THEN at + took END,
       CASE WHEN status = 'failed' THEN 'connection refused' END,
       CASE WHEN status <> 'created' THEN tasks END
FROM fill_step_status;

INSERT INTO pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, status, attempts_count, error_message, output,
                               queued_at, started_at, completed_at, failed_at)
SELECT flow_slug, run_id, step_slug, t, status,
       CASE WHEN status = 'failed' THEN 3 WHEN i % 7 = 0 THEN 2 ELSE 1 END,
       CASE WHEN status = 'failed' THEN 'connection refused' END,
       CASE WHEN status = 'completed' THEN jsonb_build_object('v', i) END,
       at, at, CASE WHEN status = 'completed' THEN at + took END,
       CASE WHEN status = 'failed' THEN at + took END
FROM fill_step_status, generate_series(0, tasks - 1) AS t
WHERE status <> 'created';

DROP TABLE fill_runs, fill_steps, fill_step_status;
VACUUM ANALYZE pgflow.runs;
VACUUM ANALYZE pgflow.step_states;
VACUUM ANALYZE pgflow.step_tasks;
