-- Flow slugs that differ only in case would share one queue (pgmq lower-cases queue table names):
-- create_flow refuses the second one with an error naming both slugs, also when two sessions
-- register them at the same time. Registering the same slug again is still a no-op.
SELECT plan(9);

SELECT pgflow.create_flow('CaseFlow');
SELECT throws_ok($$SELECT pgflow.create_flow('caseflow')$$, '23505',
                 'Flow slug "caseflow" differs only in case from the registered flow "CaseFlow": both would use the queue table pgmq.q_caseflow',
                 'a slug differing only in case is refused, naming both slugs and the shared queue table');
SELECT throws_ok($$SELECT pgflow.create_flow('CASEFLOW', max_attempts => 1)$$, '23505', NULL,
                 'whatever the case and options');
SELECT is((SELECT array_agg(flow_slug) FROM pgflow.flows), ARRAY['CaseFlow'], 'only the first flow is registered');
SELECT is((SELECT array_agg(queue_name::text) FROM pgmq.list_queues()), ARRAY['CaseFlow'], 'with its one queue');
SELECT lives_ok($$SELECT pgflow.create_flow('CaseFlow')$$, 'registering the same slug again still works (idempotent)');
SELECT lives_ok($$SELECT pgflow.create_flow('caseflow_2')$$, 'a slug that differs in more than case is fine');

-- Two sessions at once: the second waits for the first and then sees its flow.
SELECT dblink_connect('other', pgflow_tests.dblink_connstr());
BEGIN;
SELECT pgflow.create_flow('RaceFlow');
SELECT dblink_send_query('other', $$SELECT pgflow.create_flow('raceflow')$$);
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('other'), 1, 'a concurrent registration of "raceflow" waits for the one of "RaceFlow"');
COMMIT;
SELECT is((SELECT count(*) FROM dblink_get_result('other', false) AS r(f text)), 0::bigint,
          'and then fails');
SELECT matches(dblink_error_message('other'), 'differs only in case from the registered flow "RaceFlow"',
               'with the same error');
SELECT dblink_disconnect('other');
SELECT * FROM finish();
