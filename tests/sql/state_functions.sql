-- The internal steps callable on their own: start_ready_steps, maybe_complete_run,
-- cascade_complete_taskless_steps, and the deprecated poll_for_tasks.
SELECT plan(12);

SELECT pgflow.create_flow('parts');
SELECT pgflow.add_step('parts', 'one');
SELECT pgflow.add_step('parts', 'two', ARRAY['one']);
SELECT pgflow_tests.ensure_worker('parts');
SELECT pgflow.start_flow('parts', '{}', '00000000-0000-0000-0000-000000000001');

-- start_ready_steps is idempotent: already started steps are not started again.
SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-000000000001');
SELECT is((SELECT count(*) FROM pgflow.step_tasks), 1::bigint, 'start_ready_steps does not start a step twice');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('parts')), 1::bigint, 'nor send its messages twice');
SELECT lives_ok($$SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-0000000000ff')$$, 'start_ready_steps of an unknown run does nothing');

-- maybe_complete_run does nothing while steps remain.
SELECT pgflow.maybe_complete_run('00000000-0000-0000-0000-000000000001');
SELECT is((SELECT status FROM pgflow.runs), 'started', 'maybe_complete_run leaves a run with remaining steps alone');

SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"1"') FROM pgflow_tests.read_and_start('parts') t;
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"2"') FROM pgflow_tests.read_and_start('parts') t;
SELECT results_eq($$SELECT status, output FROM pgflow.runs$$, $$VALUES ('completed'::text, '{"two": "2"}'::jsonb)$$,
                  'the run completes with its leaf output');
CREATE TEMP TABLE before AS SELECT completed_at, output FROM pgflow.runs;
SELECT pgflow.maybe_complete_run('00000000-0000-0000-0000-000000000001');
SELECT is((SELECT completed_at FROM pgflow.runs), (SELECT completed_at FROM before), 'maybe_complete_run does not complete a run twice');

-- A failed run is never completed, even if its counter reaches zero.
SELECT pgflow.create_flow('parts_fail', max_attempts => 1);
SELECT pgflow.add_step('parts_fail', 'x');
SELECT pgflow.start_flow('parts_fail', '{}', '00000000-0000-0000-0000-000000000002');
SELECT pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'e') FROM pgflow_tests.read_and_start('parts_fail') t;
UPDATE pgflow.runs SET remaining_steps = 0 WHERE run_id = '00000000-0000-0000-0000-000000000002';
SELECT lives_ok($$SELECT pgflow.maybe_complete_run('00000000-0000-0000-0000-000000000002')$$,
                'maybe_complete_run on a failed run with no remaining steps does not raise');
SELECT results_eq($$SELECT status, completed_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-000000000002'$$,
                  $$VALUES ('failed'::text, NULL::timestamptz)$$, 'and leaves it failed');

-- start_ready_steps on a failed run does nothing.
SELECT pgflow.create_flow('parts_two', max_attempts => 1);
SELECT pgflow.add_step('parts_two', 'a');
SELECT pgflow.add_step('parts_two', 'b');
SELECT pgflow.add_step('parts_two', 'c', ARRAY['a']);
SELECT pgflow.start_flow('parts_two', '{}', '00000000-0000-0000-0000-000000000003');
SELECT pgflow.start_tasks('parts_two', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'parts_two'), pgflow_tests.worker_id());
SELECT pgflow.fail_task('00000000-0000-0000-0000-000000000003', 'b', 0, 'e');
UPDATE pgflow.step_states SET remaining_deps = 0 WHERE run_id = '00000000-0000-0000-0000-000000000003' AND step_slug = 'c';
SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-000000000003');
SELECT is((SELECT status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-000000000003' AND step_slug = 'c'), 'created',
          'start_ready_steps starts nothing on a failed run');

-- A taskless step left ready (e.g. by hand) is completed through the cascade with counters kept right.
SELECT pgflow.create_flow('parts_empty');
SELECT pgflow.add_step('parts_empty', 'src');
SELECT pgflow.add_step('parts_empty', 'm', ARRAY['src'], step_type => 'map');
SELECT pgflow.start_flow('parts_empty', '{}', '00000000-0000-0000-0000-000000000004');
UPDATE pgflow.step_states SET remaining_deps = 0, initial_tasks = 0 WHERE run_id = '00000000-0000-0000-0000-000000000004' AND step_slug = 'm';
SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-000000000004');
SELECT results_eq($$SELECT ss.status, r.remaining_steps FROM pgflow.step_states ss JOIN pgflow.runs r USING (run_id)
                    WHERE ss.run_id = '00000000-0000-0000-0000-000000000004' AND ss.step_slug = 'm'$$,
                  $$VALUES ('completed'::text, 1)$$, 'start_ready_steps completes a ready empty map via the cascade, counting it');

-- poll_for_tasks is deprecated and returns nothing.
SELECT is((SELECT count(*) FROM pgflow.poll_for_tasks('parts', 1, 10)), 0::bigint, 'poll_for_tasks returns nothing');
SELECT ok((SELECT prosrc LIKE '%DEPRECATED: poll_for_tasks is deprecated and will be removed. Please update pgflow via "npx pgflow install".%'
           FROM pg_proc WHERE oid = 'pgflow.poll_for_tasks(text,integer,integer,integer,integer)'::regprocedure),
          'poll_for_tasks raises pgflow''s deprecation notice');

SELECT * FROM finish();
