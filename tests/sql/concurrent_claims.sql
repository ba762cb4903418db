-- Two sessions (this one and a dblink session) claiming the same messages at the same time: no
-- task is started twice, whether it was queued or stalled, and concurrent readers of the queue
-- get disjoint messages.
SELECT plan(14);

SELECT pgflow.create_flow('race', timeout => 10);
SELECT pgflow.add_step('race', 'each', step_type => 'map');
SELECT pgflow_tests.ensure_worker('race', '11111111-1111-1111-1111-111111111111');
SELECT pgflow_tests.ensure_worker('race', '22222222-2222-2222-2222-222222222222');
SELECT pgflow.start_flow('race', (SELECT jsonb_agg(i) FROM generate_series(1, 20) i), '00000000-0000-0000-0000-0000000000aa');
SELECT dblink_connect('w2', pgflow_tests.dblink_connstr());

CREATE FUNCTION pg_temp.all_ids() RETURNS text LANGUAGE sql AS $$
  SELECT 'ARRAY[' || string_agg(message_id::text, ',') || ']::bigint[]' FROM pgflow.step_tasks WHERE flow_slug = 'race'
$$;

-- Queue readers: SKIP LOCKED hands each message to one reader only.
BEGIN;
SELECT is((SELECT count(*) FROM pgmq.read('race', 30, 5)), 5::bigint, 'session 1 reads 5 messages (transaction still open)');
SELECT is((SELECT n FROM dblink('w2', 'SELECT count(*) FROM pgmq.read(''race'', 30, 100)') AS t(n bigint)), 15::bigint,
          'session 2 reads the other 15 without waiting');
ROLLBACK;

-- Both sessions claim all 20 tasks; session 2 must wait for session 1's row locks and then get none.
BEGIN;
SELECT is((SELECT count(*) FROM pgflow.start_tasks('race', ARRAY(SELECT message_id FROM pgflow.step_tasks), '11111111-1111-1111-1111-111111111111')),
          20::bigint, 'session 1 claims all 20 tasks (not yet committed)');
SELECT dblink_send_query('w2', format('SELECT count(*) FROM pgflow.start_tasks(''race'', %s, ''22222222-2222-2222-2222-222222222222'')', pg_temp.all_ids()));
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('w2'), 1, 'session 2''s claim of the same messages waits on session 1');
COMMIT;
SELECT is((SELECT n FROM dblink_get_result('w2') AS t(n bigint)), 0::bigint, 'after session 1 commits, session 2 gets no task');
SELECT is((SELECT count(*) FROM dblink_get_result('w2') AS t(n bigint)), 0::bigint, 'session 2''s query is finished');
SELECT results_eq($$SELECT count(*), min(attempts_count), max(attempts_count), min(last_worker_id::text) FROM pgflow.step_tasks$$,
                  $$VALUES (20::bigint, 1, 1, '11111111-1111-1111-1111-111111111111')$$,
                  'every task was started exactly once, by session 1');

-- Stalled tasks: both sessions try to re-claim; only one may.
UPDATE pgflow.step_tasks SET queued_at = queued_at - interval '1 minute', started_at = started_at - interval '1 minute';
BEGIN;
SELECT is((SELECT count(*) FROM pgflow.start_tasks('race', ARRAY(SELECT message_id FROM pgflow.step_tasks), '22222222-2222-2222-2222-222222222222')),
          20::bigint, 'session 1 re-claims the 20 stalled tasks');
SELECT dblink_send_query('w2', format('SELECT count(*) FROM pgflow.start_tasks(''race'', %s, ''11111111-1111-1111-1111-111111111111'')', pg_temp.all_ids()));
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('w2'), 1, 'session 2''s re-claim waits on session 1');
COMMIT;
SELECT is((SELECT n FROM dblink_get_result('w2') AS t(n bigint)), 0::bigint, 'and then finds them freshly started: no task');
SELECT is((SELECT count(*) FROM dblink_get_result('w2') AS t(n bigint)), 0::bigint, 'session 2''s query is finished');
SELECT results_eq($$SELECT count(*), min(attempts_count), max(attempts_count), min(last_worker_id::text) FROM pgflow.step_tasks$$,
                  $$VALUES (20::bigint, 2, 2, '22222222-2222-2222-2222-222222222222')$$,
                  'every stalled task was re-claimed exactly once');

-- Sequential overlap: session 2 claims half and commits; session 1 then claims all and gets the rest.
SELECT pgflow.start_flow('race', (SELECT jsonb_agg(i) FROM generate_series(1, 10) i), '00000000-0000-0000-0000-0000000000bb');
SELECT is((SELECT n FROM dblink('w2', format(
  'SELECT count(*) FROM pgflow.start_tasks(''race'', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = %L AND task_index < 5), %L)',
  '00000000-0000-0000-0000-0000000000bb', '22222222-2222-2222-2222-222222222222')) AS t(n bigint)),
  5::bigint, 'session 2 claims the first half and commits');
SELECT is((SELECT array_agg(task_index ORDER BY task_index)
           FROM pgflow.start_tasks('race', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000bb'),
                                   '11111111-1111-1111-1111-111111111111')),
          ARRAY[5, 6, 7, 8, 9], 'a claim overlapping an earlier one gets only the tasks still queued');

SELECT dblink_disconnect('w2');
SELECT * FROM finish();
