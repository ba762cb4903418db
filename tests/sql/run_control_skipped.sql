-- Run control (cancel_run, retry_run, resume_run, run_status) of runs with skipped steps (pgflow
-- 0.14): cancelling leaves skipped steps skipped; resume keeps them skipped (reason, error, no
-- task, no event, remaining_steps without them) and resolves the conditions of the steps ready
-- again before starting any; retry starts afresh, so conditions are evaluated again.
\ir fixtures/realtime_stand_in.sql
SELECT plan(25);

CREATE FUNCTION pg_temp.steps(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(step_slug || ':' || status || coalesce(':' || skip_reason, '') ORDER BY step_slug)
  FROM pgflow.step_states WHERE run_id = run
$$;
CREATE FUNCTION pg_temp.tasks(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(step_slug || task_index || ':' || status ORDER BY step_slug, task_index), '{}')
  FROM pgflow.step_tasks WHERE run_id = run
$$;
CREATE FUNCTION pg_temp.events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages WHERE topic = 'pgflow:run:' || run
$$;

-- Flow: a (exhausted -> skip) -> b, a -> m (map, empty once a is skipped); f (fails the run) -> g.
SELECT pgflow.create_flow('rc', max_attempts => 1);
SELECT pgflow.add_step('rc', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('rc', 'b', ARRAY['a']);
SELECT pgflow.add_step('rc', 'm', ARRAY['a'], step_type => 'map');
SELECT pgflow.add_step('rc', 'f');
SELECT pgflow.add_step('rc', 'g', ARRAY['f']);

-- cancel_run: the skipped step stays skipped, only active tasks are cancelled.
SELECT pgflow.start_flow('rc', '{}', '00000000-0000-0000-0000-0000000cc001');
SELECT count(*) FROM pgflow_tests.read_and_start('rc', 30, 10);
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000cc001', 'a', 0, 'no luck');
SELECT is(pgflow_cpp.cancel_run('00000000-0000-0000-0000-0000000cc001'), true, 'cancel: a run with a skipped step is cancelled');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-0000000cc001'),
          ARRAY['a:skipped:handler_failed', 'b:started', 'f:started', 'g:created', 'm:completed'],
          'cancel: the skipped step stays skipped, the others keep their status');
SELECT is(pg_temp.tasks('00000000-0000-0000-0000-0000000cc001'), ARRAY['a0:failed', 'b0:cancelled', 'f0:cancelled'],
          'cancel: the active tasks are cancelled, the skipped step''s task is left failed');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages
           WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000cc001' AND event LIKE '%cancelled'),
          ARRAY['step:b:cancelled', 'step:f:cancelled', 'run:cancelled'], 'cancel: no step:cancelled for the skipped step');
SELECT is((SELECT status FROM pgflow_cpp.run_status('00000000-0000-0000-0000-0000000cc001')), 'cancelled',
          'run_status: cancelled');

-- resume_run of a failed run: skipped and completed steps are reused, the rest runs.
SELECT pgflow.start_flow('rc', '{}', '00000000-0000-0000-0000-0000000cc002');
SELECT count(*) FROM pgflow_tests.read_and_start('rc', 30, 10);
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000cc002', 'a', 0, 'no luck');
SELECT count(*) FROM pgflow_tests.read_and_start('rc', 30, 10);
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000cc002', 'b', 0, '"b out"');
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000cc002', 'f', 0, 'hard failure');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-0000000cc002'),
          ARRAY['a:skipped:handler_failed', 'b:completed', 'f:failed', 'g:created', 'm:completed'], 'the run to resume');
SELECT lives_ok($$CREATE TEMP TABLE resumed AS SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000cc002') AS id$$,
                'resume: a failed run with a skipped step resumes');
SELECT is(pg_temp.steps((SELECT id FROM resumed)),
          ARRAY['a:skipped:handler_failed', 'b:completed', 'f:started', 'g:created', 'm:completed'],
          'resume: the skipped step stays skipped, completed ones are reused, the failed one starts again');
SELECT results_eq($$SELECT error_message, skipped_at IS NOT NULL, remaining_tasks FROM pgflow.step_states
                    WHERE run_id = (SELECT id FROM resumed) AND step_slug = 'a'$$,
                  $$VALUES ('no luck'::text, true, NULL::integer)$$, 'resume: with its error, skipped_at, no remaining_tasks');
SELECT is(pg_temp.tasks((SELECT id FROM resumed)), ARRAY['b0:completed', 'f0:queued'],
          'resume: no task for the skipped step');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = (SELECT id FROM resumed)), 2,
          'resume: remaining_steps counts neither skipped nor completed steps');
SELECT is(pg_temp.events((SELECT id FROM resumed)), ARRAY['run:started', 'step:f:started'],
          'resume: no event for the reused skipped step');
SELECT is(pgflow_tests.run_visible_tasks('rc'), 1, 'resume: f runs');
SELECT is(pgflow_tests.run_visible_tasks('rc'), 1, 'resume: then g');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = (SELECT id FROM resumed)$$,
                  $$VALUES ('completed'::text, '{"b": "b out", "g": "ok", "m": []}'::jsonb)$$,
                  'resume: the run completes with the output an uninterrupted run gives');
SELECT is((SELECT restart_kind FROM pgflow_cpp.run_status((SELECT id FROM resumed))), 'resume', 'run_status: the lineage');

-- retry_run of a failed run with a skipped step: a fresh run, the step gets its chance again.
SELECT lives_ok($$CREATE TEMP TABLE retried AS SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-0000000cc001') AS id$$,
                'retry: a cancelled run with a skipped step is retried');
SELECT is(pg_temp.steps((SELECT id FROM retried)), ARRAY['a:started', 'b:created', 'f:started', 'g:created', 'm:created'],
          'retry: nothing of the old run is reused: the step skipped there starts again');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = (SELECT id FROM retried)), 5, 'retry: every step to do');

-- Conditions: a root step whose when_unmet 'fail' condition failed the run fails it again on
-- resume, before any step starts; a condition-skipped step stays skipped on resume and is skipped
-- again by a retry's evaluation.
SELECT pgflow.create_flow('rq', max_attempts => 1);
SELECT pgflow.add_step('rq', 'r', required_input_pattern => '{"go": true}', when_unmet => 'fail');
SELECT pgflow.add_step('rq', 's');
SELECT pgflow.start_flow('rq', '{"go": false}', '00000000-0000-0000-0000-0000000cc003');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000cc003'), 'failed',
          'conditions: the run fails on its root''s condition');
SELECT lives_ok($$CREATE TEMP TABLE resumed_cond AS SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000cc003') AS id$$,
                'conditions: it resumes');
SELECT results_eq($$SELECT r.status, s.status, s.error_message FROM pgflow.runs r JOIN pgflow.step_states s USING (run_id)
                    WHERE run_id = (SELECT id FROM resumed_cond) AND s.step_slug = 'r'$$,
                  $$VALUES ('failed'::text, 'failed'::text, 'Condition not met'::text)$$,
                  'conditions: the resumed run resolves the condition again and fails');
SELECT is(pg_temp.tasks((SELECT id FROM resumed_cond)), '{}'::text[], 'conditions: before any step started');

SELECT pgflow.create_flow('rk', max_attempts => 1);
SELECT pgflow.add_step('rk', 'r', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('rk', 'f');
SELECT pgflow.start_flow('rk', '{"go": false}', '00000000-0000-0000-0000-0000000cc004');
SELECT count(*) FROM pgflow_tests.read_and_start('rk', 30, 10);
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000cc004', 'f', 0, 'x');
SELECT is(pg_temp.steps((SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-0000000cc004'))),
          ARRAY['f:started', 'r:skipped:condition_unmet'], 'conditions: a condition-skipped step stays skipped on resume');
SELECT pgflow.start_flow('rk', '{"go": false}', '00000000-0000-0000-0000-0000000cc005');
SELECT count(*) FROM pgflow_tests.read_and_start('rk', 30, 10);
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000cc005', 'f', 0, 'x');
SELECT is(pg_temp.steps((SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-0000000cc005'))),
          ARRAY['f:started', 'r:skipped:condition_unmet'], 'conditions: and is skipped again by a retry''s evaluation');

SELECT * FROM finish();
