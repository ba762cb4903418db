-- pgflow_cpp.notify notes every queue it wakes (channel pgflow:queue:<flow>) in the
-- transaction-local setting pgflow_cpp.woken_queues, ' <flow> <flow> ', each flow once. The
-- worker's completion statements (include/pgflow/runtime/statements.hpp, prepared here as they are
-- there: unit.acknowledgements checks the copies) answer it after their rows: a worker whose
-- completion queued tasks of its own flow ends its claim linger.
SELECT plan(9);

SELECT pgflow.create_flow('fed');
SELECT pgflow.add_step('fed', 'a');
SELECT pgflow.add_step('fed', 'b', ARRAY['a']);
SELECT pgflow_tests.ensure_worker('fed');

PREPARE complete_one(uuid, text, int, jsonb) AS
SELECT count(*), current_setting('pgflow_cpp.woken_queues', true)
FROM pgflow.complete_task($1::uuid, $2, $3::int, $4::jsonb);
PREPARE complete_batch(uuid[], text[], int[], jsonb[]) AS
SELECT count(*), current_setting('pgflow_cpp.woken_queues', true)
FROM pgflow.complete_tasks($1::uuid[], $2::text[], $3::int[], $4::jsonb[]);

BEGIN;
SELECT pgflow_cpp.notify('pgflow:run:00000000-0000-0000-0000-00000000e001', '{}');
SELECT is(coalesce(current_setting('pgflow_cpp.woken_queues', true), ''), '',
          'a run event notes no queue');
SELECT pgflow_cpp.notify('pgflow:queue:alpha', '');
SELECT pgflow_cpp.notify('pgflow:queue:beta', '');
SELECT pgflow_cpp.notify('pgflow:queue:alpha', '');
SELECT is(current_setting('pgflow_cpp.woken_queues', true), ' alpha beta ',
          'each woken queue is noted once, in the order they were woken');
COMMIT;
SELECT is(coalesce(current_setting('pgflow_cpp.woken_queues', true), ''), '',
          'the note goes with its transaction');

BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT pgflow_cpp.notify('pgflow:queue:gamma', '');
SELECT is(current_setting('pgflow_cpp.woken_queues', true), ' gamma ',
          'a deferred queue wake-up is noted too');
ROLLBACK;

-- The worker's statements, in a deferring transaction as the worker sends them: completing a
-- task that starts the next step answers its flow; the completion that ends the run answers none.
SELECT pgflow.start_flow('fed', '{}', '00000000-0000-0000-0000-00000000e002');
CREATE TEMP TABLE claimed AS SELECT * FROM pgflow_tests.read_and_start('fed');
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
CREATE TEMP TABLE answered_a AS EXECUTE complete_one('00000000-0000-0000-0000-00000000e002', 'a', 0, '1');
COMMIT;
SELECT is((SELECT current_setting FROM answered_a), ' fed ',
          'complete_task of a step whose dependent starts answers the flow whose queue it woke');
SELECT is((SELECT count FROM answered_a), 1::bigint, '... after its row');
SELECT ok(EXISTS (SELECT 1 FROM pgflow_tests.read_and_start('fed') AS t WHERE t.step_slug = 'b'),
          '... and the task it queued is there to claim');
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
CREATE TEMP TABLE answered_b AS EXECUTE complete_one('00000000-0000-0000-0000-00000000e002', 'b', 0, '2');
COMMIT;
SELECT is((SELECT coalesce(current_setting, '') FROM answered_b), '',
          'the completion that ends the run wakes no queue and answers none');

-- The batch statement: two runs' first steps in one call answer the flow once.
SELECT pgflow.start_flow('fed', '{}', '00000000-0000-0000-0000-00000000e003');
SELECT pgflow.start_flow('fed', '{}', '00000000-0000-0000-0000-00000000e004');
SELECT count(*) FROM pgflow_tests.read_and_start('fed', 30, 10);
CREATE TEMP TABLE answered_batch AS
EXECUTE complete_batch(ARRAY['00000000-0000-0000-0000-00000000e003', '00000000-0000-0000-0000-00000000e004']::uuid[],
                       ARRAY['a', 'a'], ARRAY[0, 0], ARRAY['1', '1']::jsonb[]);
SELECT is((SELECT (count, current_setting) FROM answered_batch), (2::bigint, ' fed '::text),
          'complete_tasks answers its rows and the flow, once for the two runs');

SELECT * FROM finish();
