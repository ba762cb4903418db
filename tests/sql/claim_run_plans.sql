-- A claim reaches the runs of the tasks it claims by key, whatever the statistics say. Analyzed
-- while one run of 301 had started (as autovacuum does while a flow is young), the claim's generic
-- plan read the runs through idx_runs_status (status = 'started') and joined its tasks to each of
-- them: once a backlog of runs had started, every claim read every started run (a claim of 2 tasks
-- among 3,000 started runs: 3,001 runs and 6,002 task probes, 8.7 ms). Counted with this
-- transaction's own statistics (pg_stat_xact_user_tables), which also hold counts of earlier
-- transactions not yet flushed: each check takes the difference.
SELECT plan(4);

ALTER TABLE pgflow.step_tasks SET (autovacuum_enabled = false);
ALTER TABLE pgflow.runs SET (autovacuum_enabled = false);
ALTER TABLE pgflow.step_states SET (autovacuum_enabled = false);

SELECT pgflow.create_flow('backlog');
SELECT pgflow.add_step('backlog', 'only');
SELECT pgflow_tests.ensure_worker('backlog');
SELECT count(*) FROM generate_series(1, 300) AS i, LATERAL pgflow.start_flow('backlog', to_jsonb(i));
SELECT pgflow_tests.run_visible_tasks('backlog', '1');
SELECT pgflow.start_flow('backlog', '0');
ANALYZE pgflow.runs, pgflow.step_states, pgflow.step_tasks, pgflow.steps, pgflow.flows;
-- The plans are made now (this session keeps them): 301 runs, one started.
SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('backlog', 30, 10, pgflow_tests.worker_id())), 1::bigint,
          'the young flow''s claim takes its one task');

SELECT count(*) FROM generate_series(1, 3000) AS i, LATERAL pgflow.start_flow('backlog', to_jsonb(i));

CREATE FUNCTION pg_temp.fetched(rel regclass) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables WHERE relid = rel
$$;
BEGIN;
CREATE TEMP TABLE before AS SELECT pg_temp.fetched('pgflow.runs') AS runs, pg_temp.fetched('pgflow.step_tasks') AS tasks;
SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('backlog', 30, 2, pgflow_tests.worker_id())), 2::bigint,
          'a claim of 2 tasks among 3,000 started runs');
SELECT cmp_ok(pg_temp.fetched('pgflow.runs') - (SELECT runs FROM before), '<', 20::bigint,
              'reads the runs of its tasks, not every started run');
SELECT cmp_ok(pg_temp.fetched('pgflow.step_tasks') - (SELECT tasks FROM before), '<', 20::bigint,
              'and looks each task up once');
COMMIT;

SELECT * FROM finish();
