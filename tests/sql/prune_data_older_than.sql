-- pgflow.prune_data_older_than: deletes finished runs older than the retention (their tasks, any
-- status, their steps, messages left in the active queue, run_control rows), archived messages
-- older than it and workers silent for longer; keeps started runs, recent runs and definitions.
\ir fixtures/realtime_stand_in.sql
SELECT plan(21);

SELECT pgflow.create_flow('prune');
SELECT pgflow.add_step('prune', 'a');
SELECT pgflow.add_step('prune', 'b', ARRAY['a']);

-- e001: completed long ago. e002: failed long ago with b never started and an orphaned message.
-- e003: started long ago (never pruned). e004: completed recently. e005: retry of e001, recent.
SELECT pgflow.start_flow('prune', '{}', '00000000-0000-0000-0000-00000000e001');
SELECT pgflow_tests.run_visible_tasks('prune');
SELECT pgflow_tests.run_visible_tasks('prune');
SELECT pgflow.start_flow('prune', '{}', '00000000-0000-0000-0000-00000000e004');
SELECT pgflow_tests.run_visible_tasks('prune');
SELECT pgflow_tests.run_visible_tasks('prune');
-- Failed behind the functions' back: its queued task's message stays in the active queue.
SELECT pgflow.start_flow('prune', '{}', '00000000-0000-0000-0000-00000000e002');
UPDATE pgflow.runs SET status = 'failed', failed_at = now() WHERE run_id = '00000000-0000-0000-0000-00000000e002';
SELECT pgflow.start_flow('prune', '{}', '00000000-0000-0000-0000-00000000e003');
INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, idempotency_key)
VALUES ('00000000-0000-0000-0000-00000000e001', 'prune', 'old-key');
SELECT pgflow.start_flow('prune', '{}', '00000000-0000-0000-0000-00000000e005');
INSERT INTO pgflow_cpp.run_control (run_id, flow_slug, restart_of_run_id, restart_kind)
VALUES ('00000000-0000-0000-0000-00000000e005', 'prune', '00000000-0000-0000-0000-00000000e001', 'retry');

-- Age e001..e003 by 40 days (every timestamp, so that the tables' ordering checks hold).
UPDATE pgflow.runs SET started_at = started_at - interval '40 days', completed_at = completed_at - interval '40 days',
                       failed_at = failed_at - interval '40 days'
WHERE run_id IN ('00000000-0000-0000-0000-00000000e001', '00000000-0000-0000-0000-00000000e002',
                 '00000000-0000-0000-0000-00000000e003');
SELECT pgflow_tests.ensure_worker('prune', '22222222-2222-2222-2222-222222222222');
UPDATE pgflow.workers SET last_heartbeat_at = now() - interval '40 days'
WHERE worker_id = '22222222-2222-2222-2222-222222222222';
UPDATE pgflow.step_tasks SET last_worker_id = '22222222-2222-2222-2222-222222222222'
WHERE run_id = '00000000-0000-0000-0000-00000000e004';
DO $$ BEGIN EXECUTE format('UPDATE pgmq.%I SET archived_at = archived_at - interval ''40 days'' WHERE msg_id IN
  (SELECT message_id FROM pgflow.step_tasks WHERE run_id = ''00000000-0000-0000-0000-00000000e001'')',
  pgmq.format_table_name('prune', 'a')); END $$;

CREATE TEMP TABLE before_prune AS
SELECT (SELECT array_agg(message_id) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000e002') AS orphaned,
       (SELECT array_agg(message_id ORDER BY message_id) FROM pgflow.step_tasks
        WHERE run_id = '00000000-0000-0000-0000-00000000e004') AS recent_archived;

SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('prune') WHERE (SELECT orphaned FROM before_prune) @> ARRAY[msg_id]),
          1::bigint, 'before: the failed run''s task left a message in the active queue');
SELECT lives_ok($$SELECT pgflow.prune_data_older_than(interval '30 days')$$, 'prunes with a 30-day retention');
SELECT set_eq($$SELECT run_id FROM pgflow.runs$$,
              ARRAY['00000000-0000-0000-0000-00000000e003', '00000000-0000-0000-0000-00000000e004',
                    '00000000-0000-0000-0000-00000000e005']::uuid[],
              'the old completed and failed runs are gone; the old started run and the recent runs stay');
SELECT is((SELECT count(*) FROM pgflow.step_states WHERE run_id IN ('00000000-0000-0000-0000-00000000e001',
                                                                  '00000000-0000-0000-0000-00000000e002')),
          0::bigint, 'with all their step states, whatever their status (b of e002 was never started)');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id IN ('00000000-0000-0000-0000-00000000e001',
                                                                 '00000000-0000-0000-0000-00000000e002')),
          0::bigint, 'and all their tasks');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('prune') WHERE (SELECT orphaned FROM before_prune) @> ARRAY[msg_id]),
          0::bigint, 'the failed run''s message left in the active queue is deleted');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('prune')), 2::bigint,
          'the started and the recent run''s messages stay queued');
SELECT is(cardinality(pgflow_tests.archived_ids('prune')), 2,
          'messages archived before the cutoff are deleted; the recent run''s two archived messages stay');
SELECT ok(pgflow_tests.archived_ids('prune') @> (SELECT recent_archived FROM before_prune),
          'the archived messages that stay are the recent run''s');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE run_id = '00000000-0000-0000-0000-00000000e001'), 0::bigint,
          'the pruned run''s run_control row (its idempotency key) goes with it');
SELECT ok((SELECT restart_of_run_id IS NULL FROM pgflow_cpp.run_control WHERE run_id = '00000000-0000-0000-0000-00000000e005'),
          'a kept retry of a pruned run loses the link to it');
SELECT is((SELECT count(*) FROM pgflow.workers WHERE worker_id = '22222222-2222-2222-2222-222222222222'), 0::bigint,
          'a worker silent for longer than the retention is deleted');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000e004'
           AND last_worker_id IS NULL), 2::bigint, 'tasks it ran keep their rows, without the worker');
SELECT is((SELECT count(*) FROM pgflow.workers WHERE worker_id = pgflow_tests.worker_id()), 1::bigint,
          'a live worker stays');
SELECT is((SELECT count(*) FROM pgflow.steps WHERE flow_slug = 'prune'), 2::bigint, 'definitions stay');
SELECT lives_ok($$SELECT pgflow.prune_data_older_than(interval '30 days')$$, 'a second call has nothing left to do');
SELECT throws_ok($$SELECT pgflow.prune_data_older_than(NULL)$$, '22004',
                 'prune_data_older_than: retention_interval must not be NULL', 'a NULL retention is refused');
-- A retention of 0 or less would delete every finished run, the recent ones too.
SELECT throws_ok($$SELECT pgflow.prune_data_older_than(interval '-1 day')$$, '22023',
                 'prune_data_older_than: retention_interval must be a positive interval, not -1 days', 'a negative retention is refused');
SELECT throws_ok($$SELECT pgflow.prune_data_older_than(interval '0')$$, '22023',
                 'prune_data_older_than: retention_interval must be a positive interval, not 00:00:00', 'a zero retention is refused');
SELECT throws_ok($$SELECT pgflow.prune_data_older_than(interval '1 month -40 days')$$, '22023',
                 'prune_data_older_than: retention_interval must be a positive interval, not 1 mon -40 days',
                 'a retention that is negative overall is refused');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE status = 'completed'), 1::bigint, 'the recent completed run is still there');

SELECT * FROM finish();
