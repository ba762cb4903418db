-- pgflow_cpp.start_flow_idempotent: one run per (flow, idempotency key), also when two sessions
-- (dblink) race; the key is per flow; a NULL key is refused.
\ir fixtures/realtime_stand_in.sql
SELECT plan(14);

SELECT pgflow.create_flow('idem');
SELECT pgflow.add_step('idem', 'a');
SELECT pgflow.create_flow('idem2');
SELECT pgflow.add_step('idem2', 'a');

SELECT results_eq($$SELECT run_id, status, input FROM pgflow_cpp.start_flow_idempotent('idem', '{"n": 1}', 'order-7',
                                                                                          '00000000-0000-0000-0000-0000000e0001')$$,
                  $$VALUES ('00000000-0000-0000-0000-0000000e0001'::uuid, 'started'::text, '{"n": 1}'::jsonb)$$,
                  'the first call starts the run (pgflow.runs row, as start_flow returns)');
SELECT is((SELECT count(*) FROM realtime.messages), 2::bigint, 'with start_flow''s events');
SELECT is((SELECT idempotency_key FROM pgflow_cpp.run_status('00000000-0000-0000-0000-0000000e0001')), 'order-7',
          'run_status shows the key');
DELETE FROM realtime.messages;
SELECT is((SELECT run_id FROM pgflow_cpp.start_flow_idempotent('idem', '{"n": 2}', 'order-7')),
          '00000000-0000-0000-0000-0000000e0001'::uuid, 'the same key returns the same run (whatever the input)');
SELECT is((SELECT run_id FROM pgflow_cpp.start_flow_idempotent('idem', '{"n": 1}', 'order-7', '00000000-0000-0000-0000-0000000e0002')),
          '00000000-0000-0000-0000-0000000e0001'::uuid, '... or the run id');
SELECT is((SELECT count(*) FROM pgflow.runs), 1::bigint, 'and starts nothing');
SELECT is((SELECT count(*) FROM realtime.messages), 0::bigint, 'and sends no event');
SELECT pgflow_tests.run_visible_tasks('idem');
SELECT results_eq($$SELECT run_id, status FROM pgflow_cpp.start_flow_idempotent('idem', '{"n": 1}', 'order-7')$$,
                  $$VALUES ('00000000-0000-0000-0000-0000000e0001'::uuid, 'completed'::text)$$,
                  'the row is returned as it now is');
SELECT isnt((SELECT run_id FROM pgflow_cpp.start_flow_idempotent('idem2', '{"n": 1}', 'order-7')),
            '00000000-0000-0000-0000-0000000e0001'::uuid, 'keys are per flow');
SELECT throws_ok($$SELECT pgflow_cpp.start_flow_idempotent('idem', '{}', NULL)$$, '22004',
                 'idempotency_key must not be NULL', 'a NULL key is refused');

-- Two sessions race one key: the second waits for the first's transaction and gets its run.
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
BEGIN;
SELECT run_id AS raced FROM pgflow_cpp.start_flow_idempotent('idem', '{}', 'race') \gset
SELECT dblink_send_query('s2', $$SELECT run_id FROM pgflow_cpp.start_flow_idempotent('idem', '{}', 'race')$$);
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('s2'), 1, 'the second session waits for the first');
COMMIT;
SELECT is((SELECT r FROM dblink_get_result('s2') AS t(r uuid)), :'raced'::uuid, 'and then returns the first one''s run');
SELECT is((SELECT count(*) FROM dblink_get_result('s2') AS t(r uuid)), 0::bigint, 'session 2 is done');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE idempotency_key = 'race'), 1::bigint, 'one run has the key');
SELECT dblink_disconnect('s2');

SELECT * FROM finish();
