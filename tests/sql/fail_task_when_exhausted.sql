-- fail_task's whenExhausted (pgflow 0.14 with 0.15.1's task statuses): an exhausted task fails the
-- run ('fail'), skips its step ('skip': dependents go on without it, conditions are resolved,
-- empty maps complete) or skips its step and every dependent ('skip-cascade'); the skip happens
-- once (late and replayed calls change nothing), sibling tasks are skipped and archived, and the
-- same holds for fail_task_permanently, fail_task_attempt and a task that timed out.
\ir fixtures/realtime_stand_in.sql
SELECT plan(61);

CREATE FUNCTION pg_temp.claim(flow text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow_tests.read_and_start(flow, 30, 100)
$$;
CREATE FUNCTION pg_temp.steps(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(step_slug || ':' || status || coalesce(':' || skip_reason, '') ORDER BY step_slug)
  FROM pgflow.step_states WHERE run_id = run
$$;
CREATE FUNCTION pg_temp.events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages WHERE topic = 'pgflow:run:' || run
$$;
CREATE FUNCTION pg_temp.remaining(run uuid) RETURNS integer LANGUAGE sql AS $$
  SELECT remaining_steps FROM pgflow.runs WHERE run_id = run
$$;

-- when_exhausted_fail_marks_run_failed (the default)
SELECT pgflow.create_flow('wx_fail', max_attempts => 1);
SELECT pgflow.add_step('wx_fail', 'a');
SELECT pgflow.add_step('wx_fail', 'b', ARRAY['a']);
SELECT pgflow.start_flow('wx_fail', '{}', '00000000-0000-0000-0000-00000000f001');
SELECT pg_temp.claim('wx_fail');
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f001', 'a', 0, 'boom')), 'failed',
          'fail: the exhausted task fails');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f001'), ARRAY['a:failed', 'b:created'], 'fail: its step fails');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f001'), 'failed', 'fail: the run fails');
SELECT is(pg_temp.events('00000000-0000-0000-0000-00000000f001'),
          ARRAY['run:started', 'step:a:started', 'step:a:failed', 'run:failed'], 'fail: step:failed then run:failed');

-- when_exhausted_skip_skips_step, skip_verifies_handler_failed_reason, skip_decrements_remaining_deps
SELECT pgflow.create_flow('wx_skip', max_attempts => 2, base_delay => 0);
SELECT pgflow.add_step('wx_skip', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_skip', 'b', ARRAY['a']);
SELECT pgflow.start_flow('wx_skip', '{"n": 1}', '00000000-0000-0000-0000-00000000f002');
SELECT pg_temp.claim('wx_skip');
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f002', 'a', 0, 'first')), 'queued',
          'skip: with attempts left the task is retried as usual');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f002'), ARRAY['a:started', 'b:created'], 'skip: the step is not skipped yet');
SELECT pg_temp.claim('wx_skip');
SELECT results_eq($$SELECT status, error_message, failed_at IS NOT NULL
                    FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f002', 'a', 0, 'second')$$,
                  $$VALUES ('failed'::text, 'second'::text, true)$$, 'skip: the exhausted task fails, one row returned');
SELECT results_eq($$SELECT status, skip_reason, error_message, skipped_at IS NOT NULL, failed_at, remaining_tasks
                    FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-00000000f002' AND step_slug = 'a'$$,
                  $$VALUES ('skipped'::text, 'handler_failed'::text, 'second'::text, true, NULL::timestamptz, NULL::integer)$$,
                  'skip: the step is skipped (handler_failed, skipped_at, the error kept, no remaining_tasks)');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f002'$$,
                  $$VALUES ('started'::text, 1)$$, 'skip: the run goes on, one step fewer to do');
SELECT results_eq($$SELECT status, remaining_deps FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000f002' AND step_slug = 'b'$$,
                  $$VALUES ('started'::text, 0)$$, 'skip: the dependent lost its dependency and started');
SELECT is((SELECT payload FROM realtime.messages WHERE event = 'step:a:skipped'
             AND topic = 'pgflow:run:00000000-0000-0000-0000-00000000f002') - 'skipped_at',
          jsonb_build_object('event_type', 'step:skipped', 'run_id', '00000000-0000-0000-0000-00000000f002',
                             'step_slug', 'a', 'status', 'skipped', 'skip_reason', 'handler_failed', 'error_message', 'second'),
          'skip: step:a:skipped carries the error and no flow_slug (upstream''s whenExhausted payload)');
SELECT ok((SELECT (payload->>'skipped_at')::timestamptz = (SELECT skipped_at FROM pgflow.step_states
                     WHERE run_id = '00000000-0000-0000-0000-00000000f002' AND step_slug = 'a')
           FROM realtime.messages WHERE event = 'step:a:skipped'), 'skip: the event carries the stored skipped_at');
SELECT is((SELECT input - 'run' FROM pgflow_tests.read_and_start('wx_skip', 30, 10)), '{}'::jsonb,
          'skip: the dependent''s input has no key for the skipped step');
SELECT is(cardinality(pgflow_tests.archived_ids('wx_skip')), 1, 'skip: the failed task''s message is archived');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000f002', 'b', 0, '"b done"');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f002'$$,
                  $$VALUES ('completed'::text, '{"b": "b done"}'::jsonb)$$, 'skip: the run completes without the skipped step');

-- replayed_fail_task_skip_is_idempotent, late_fail_after_skip_does_not_double_decrement_remaining_steps
SELECT pgflow.start_flow('wx_skip', '{}', '00000000-0000-0000-0000-00000000f003');
SELECT pg_temp.claim('wx_skip');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f003', 'a', 0, 'x');
SELECT pg_temp.claim('wx_skip');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f003', 'a', 0, 'y');
SELECT results_eq($$SELECT status, error_message FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f003', 'a', 0, 'replayed')$$,
                  $$VALUES ('failed'::text, 'y'::text)$$, 'a replayed fail_task returns the row unchanged');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-00000000f003'), 1, 'and decrements nothing');
SELECT is((SELECT count(*) FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-00000000f003'
             AND event = 'step:a:skipped'), 1::bigint, 'and sends no second step:skipped');

-- when_exhausted_skip_cascade_skips_dependents
SELECT pgflow.create_flow('wx_cascade', max_attempts => 1);
SELECT pgflow.add_step('wx_cascade', 'a', when_exhausted => 'skip-cascade');
SELECT pgflow.add_step('wx_cascade', 'b', ARRAY['a']);
SELECT pgflow.add_step('wx_cascade', 'c', ARRAY['b']);
SELECT pgflow.add_step('wx_cascade', 'd');
SELECT pgflow.start_flow('wx_cascade', '{}', '00000000-0000-0000-0000-00000000f004');
SELECT pg_temp.claim('wx_cascade');
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f004', 'a', 0, 'gone')), 'failed',
          'skip-cascade: the task fails');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f004'),
          ARRAY['a:skipped:handler_failed', 'b:skipped:dependency_skipped', 'c:skipped:dependency_skipped', 'd:started'],
          'skip-cascade: the step and its dependents, transitively, are skipped');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-00000000f004'), 1, 'skip-cascade: each skipped step counted off once');
SELECT is(pg_temp.events('00000000-0000-0000-0000-00000000f004'),
          ARRAY['run:started', 'step:a:started', 'step:d:started', 'step:a:skipped', 'step:b:skipped', 'step:c:skipped'],
          'skip-cascade: one step:skipped each, in dependency order');
SELECT is((SELECT count(*) FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-00000000f004'
             AND event = 'step:b:skipped' AND payload->>'flow_slug' = 'wx_cascade'), 1::bigint,
          'skip-cascade: the dependents'' events are the cascade''s (with flow_slug)');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000f004', 'd', 0, '1');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f004'$$,
                  $$VALUES ('completed'::text, '{"d": 1}'::jsonb)$$, 'skip-cascade: the run completes with the other leaf');

-- skip_diamond_multiple_dependents
SELECT pgflow.create_flow('wx_diamond', max_attempts => 1);
SELECT pgflow.add_step('wx_diamond', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_diamond', 'b', ARRAY['a']);
SELECT pgflow.add_step('wx_diamond', 'c', ARRAY['a']);
SELECT pgflow.add_step('wx_diamond', 'd', ARRAY['b', 'c']);
SELECT pgflow.start_flow('wx_diamond', '{}', '00000000-0000-0000-0000-00000000f005');
SELECT pg_temp.claim('wx_diamond');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f005', 'a', 0, 'x');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f005'),
          ARRAY['a:skipped:handler_failed', 'b:started', 'c:started', 'd:created'], 'diamond: both dependents start');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-00000000f005'), 3, 'diamond: three steps left');
SELECT is(pgflow_tests.run_visible_tasks('wx_diamond'), 2, 'diamond: b and c run');
SELECT is(pgflow_tests.run_visible_tasks('wx_diamond'), 1, 'diamond: then d');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f005'), 'completed', 'diamond: the run completes');

-- skip_partial_deps_waits
SELECT pgflow.create_flow('wx_partial', max_attempts => 1);
SELECT pgflow.add_step('wx_partial', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_partial', 'x');
SELECT pgflow.add_step('wx_partial', 'c', ARRAY['a', 'x']);
SELECT pgflow.start_flow('wx_partial', '{}', '00000000-0000-0000-0000-00000000f006');
SELECT pg_temp.claim('wx_partial');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f006', 'a', 0, 'x');
SELECT results_eq($$SELECT status, remaining_deps FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000f006' AND step_slug = 'c'$$,
                  $$VALUES ('created'::text, 1)$$, 'partial: a dependent with another dependency left waits');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000f006', 'x', 0, '"x out"');
SELECT is((SELECT input - 'run' FROM pgflow_tests.read_and_start('wx_partial', 30, 10)), '{"x": "x out"}'::jsonb,
          'partial: then starts with the completed dependency''s output only');

-- skip_propagates_to_map_step, skip_then_taskless_map_starts_downstream
SELECT pgflow.create_flow('wx_map', max_attempts => 1);
SELECT pgflow.add_step('wx_map', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_map', 'm', ARRAY['a'], step_type => 'map');
SELECT pgflow.add_step('wx_map', 'z', ARRAY['m']);
SELECT pgflow.start_flow('wx_map', '{}', '00000000-0000-0000-0000-00000000f007');
SELECT pg_temp.claim('wx_map');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f007', 'a', 0, 'x');
SELECT results_eq($$SELECT status, initial_tasks, pgflow_cpp.step_output(run_id, step_slug, 'map') FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000f007' AND step_slug = 'm'$$,
                  $$VALUES ('completed'::text, 0, '[]'::jsonb)$$, 'map: a map whose dependency was skipped completes empty');
SELECT is((SELECT input - 'run' FROM pgflow_tests.read_and_start('wx_map', 30, 10)), '{"m": []}'::jsonb,
          'map: and its dependent starts with []');

-- skip_only_step_completes_run
SELECT pgflow.create_flow('wx_only', max_attempts => 1);
SELECT pgflow.add_step('wx_only', 'a', when_exhausted => 'skip');
SELECT pgflow.start_flow('wx_only', '{}', '00000000-0000-0000-0000-00000000f008');
SELECT pg_temp.claim('wx_only');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f008', 'a', 0, 'x');
SELECT results_eq($$SELECT status, remaining_steps, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f008'$$,
                  $$VALUES ('completed'::text, 0, NULL::jsonb)$$, 'only step: the run completes, output NULL');
SELECT is((SELECT payload->'output' FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-00000000f008'
             AND event = 'run:completed'), 'null'::jsonb, 'only step: run:completed carries output null');

-- skip_archives_sibling_messages (a root map; one task still queued), late calls of the siblings
SELECT pgflow.create_flow('wx_siblings', max_attempts => 1);
SELECT pgflow.add_step('wx_siblings', 'm', step_type => 'map', when_exhausted => 'skip');
SELECT pgflow.start_flow('wx_siblings', '[1, 2, 3, 4]', '00000000-0000-0000-0000-00000000f009');
SELECT count(*) FROM pgflow_tests.read_and_start('wx_siblings', 30, 3);
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f009', 'm', 1, 'x')), 'failed',
          'siblings: one map task is exhausted');
SELECT is(pgflow_tests.task_statuses('00000000-0000-0000-0000-00000000f009'), ARRAY['m0:skipped', 'm1:failed', 'm2:skipped', 'm3:skipped'],
          'siblings: the others, started or queued, are skipped');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('wx_siblings')), 0::bigint, 'siblings: every message is archived');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f009'$$,
                  $$VALUES ('completed'::text, NULL::jsonb)$$, 'siblings: the run completes without the map''s output');
SELECT results_eq($$SELECT status, output FROM pgflow.complete_task('00000000-0000-0000-0000-00000000f009', 'm', 0, '1')$$,
                  $$VALUES ('skipped'::text, NULL::jsonb)$$, 'siblings: a late complete_task changes nothing');
SELECT results_eq($$SELECT status, error_message FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f009', 'm', 2, 'late')$$,
                  $$VALUES ('skipped'::text, NULL::text)$$, 'siblings: a late fail_task changes nothing');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-00000000f009'), 0, 'siblings: nothing counted twice');

-- skip_resolves_dependent_conditions_before_start (fail mode), skip_condition_fail_archives_parent_failed_message,
-- skip_condition_fail_returns_failed_task_row
SELECT pgflow.create_flow('wx_cond_fail', max_attempts => 1);
SELECT pgflow.add_step('wx_cond_fail', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_cond_fail', 'b', ARRAY['a'], required_input_pattern => '{"a": {"ok": true}}', when_unmet => 'fail');
SELECT pgflow.start_flow('wx_cond_fail', '{}', '00000000-0000-0000-0000-00000000f00a');
SELECT pg_temp.claim('wx_cond_fail');
SELECT results_eq($$SELECT step_slug, status, error_message FROM pgflow.fail_task('00000000-0000-0000-0000-00000000f00a', 'a', 0, 'x')$$,
                  $$VALUES ('a'::text, 'failed'::text, 'x'::text)$$, 'condition fail: fail_task returns the failed task''s row');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f00a'), ARRAY['a:skipped:handler_failed', 'b:failed'],
          'condition fail: the dependent''s condition is tested before it starts, and fails it');
SELECT results_eq($$SELECT r.status, s.error_message FROM pgflow.runs r JOIN pgflow.step_states s USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-00000000f00a' AND s.step_slug = 'b'$$,
                  $$VALUES ('failed'::text, 'Condition not met'::text)$$, 'condition fail: the run fails');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000f00a' AND step_slug = 'b'),
          0::bigint, 'condition fail: the dependent never got a task');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('wx_cond_fail')), 0::bigint,
          'condition fail: the failed task''s message is archived');

-- skip_resolves_dependent_conditions_before_start (skip mode)
SELECT pgflow.create_flow('wx_cond_skip', max_attempts => 1);
SELECT pgflow.add_step('wx_cond_skip', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_cond_skip', 'b', ARRAY['a'], required_input_pattern => '{"a": {}}');
SELECT pgflow.add_step('wx_cond_skip', 'c', ARRAY['a'], forbidden_input_pattern => '{"a": {}}');
SELECT pgflow.start_flow('wx_cond_skip', '{}', '00000000-0000-0000-0000-00000000f00b');
SELECT pg_temp.claim('wx_cond_skip');
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000f00b', 'a', 0, 'x');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f00b'),
          ARRAY['a:skipped:handler_failed', 'b:skipped:condition_unmet', 'c:started'],
          'condition skip: if {a: {}} is unmet and skipped, ifNot {a: {}} runs');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-00000000f00b'), 1, 'condition skip: one step left');

-- type_violation_always_hard_fails
SELECT pgflow.create_flow('wx_type');
SELECT pgflow.add_step('wx_type', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_type', 'm', ARRAY['a'], step_type => 'map', when_exhausted => 'skip');
SELECT pgflow.start_flow('wx_type', '{}', '00000000-0000-0000-0000-00000000f00c');
SELECT pg_temp.claim('wx_type');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000f00c', 'a', 0, '{"not": "an array"}');
SELECT results_eq($$SELECT r.status, s.status FROM pgflow.runs r JOIN pgflow.step_states s USING (run_id)
                    WHERE run_id = '00000000-0000-0000-0000-00000000f00c' AND s.step_slug = 'a'$$,
                  $$VALUES ('failed'::text, 'failed'::text)$$, 'a type violation fails the run whatever when_exhausted says');

-- fail_task_permanently: exhausted at once, then as when_exhausted says (skip-cascade here)
SELECT pgflow.create_flow('wx_perm', max_attempts => 5);
SELECT pgflow.add_step('wx_perm', 'a', when_exhausted => 'skip-cascade');
SELECT pgflow.add_step('wx_perm', 'b', ARRAY['a']);
SELECT pgflow.add_step('wx_perm', 'c');
SELECT pgflow.start_flow('wx_perm', '{}', '00000000-0000-0000-0000-00000000f00d');
SELECT pg_temp.claim('wx_perm');
SELECT results_eq($$SELECT status, attempts_count FROM pgflow_cpp.fail_task_permanently('00000000-0000-0000-0000-00000000f00d', 'a', 0, 'bad input')$$,
                  $$VALUES ('failed'::text, 1)$$, 'fail_task_permanently: the first attempt of five is the last');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f00d'),
          ARRAY['a:skipped:handler_failed', 'b:skipped:dependency_skipped', 'c:started'],
          'fail_task_permanently: skip-cascade skips the step and its dependent, not the run');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f00d'), 'started',
          'fail_task_permanently: the run goes on');
-- ... and with 'skip'
SELECT pgflow.create_flow('wx_perm_skip', max_attempts => 5);
SELECT pgflow.add_step('wx_perm_skip', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_perm_skip', 'b', ARRAY['a']);
SELECT pgflow.start_flow('wx_perm_skip', '{}', '00000000-0000-0000-0000-00000000f00e');
SELECT pg_temp.claim('wx_perm_skip');
SELECT pgflow_cpp.fail_task_permanently('00000000-0000-0000-0000-00000000f00e', 'a', 0, 'bad input');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f00e'), ARRAY['a:skipped:handler_failed', 'b:started'],
          'fail_task_permanently: skip releases the dependent');

-- fail_task_attempt (an abandoned attempt) with skip
SELECT pgflow.create_flow('wx_attempt', max_attempts => 1);
SELECT pgflow.add_step('wx_attempt', 'a', when_exhausted => 'skip');
SELECT pgflow.add_step('wx_attempt', 'b', ARRAY['a']);
SELECT pgflow.start_flow('wx_attempt', '{}', '00000000-0000-0000-0000-00000000f00f');
SELECT pg_temp.claim('wx_attempt');
SELECT is(pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-00000000f00f', 'a', 0, 1, pgflow_tests.worker_id(), 'abandoned'),
          1, 'fail_task_attempt: the abandoned last attempt fails');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f00f'), ARRAY['a:skipped:handler_failed', 'b:started'],
          'fail_task_attempt: its step is skipped and the dependent starts');
SELECT is(pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-00000000f00f', 'a', 0, 1, pgflow_tests.worker_id(), 'again'),
          0, 'fail_task_attempt: a second call finds the attempt no longer started');

-- A task that timed out on its last attempt (start_tasks fails it through fail_task) with skip-cascade.
SELECT pgflow.create_flow('wx_timeout', max_attempts => 1, timeout => 1);
SELECT pgflow.add_step('wx_timeout', 'a', when_exhausted => 'skip-cascade');
SELECT pgflow.add_step('wx_timeout', 'b', ARRAY['a']);
SELECT pgflow.add_step('wx_timeout', 'c');
SELECT pgflow.start_flow('wx_timeout', '{}', '00000000-0000-0000-0000-00000000f010');
SELECT count(*) FROM pgflow_tests.read_and_start('wx_timeout', 30, 1);
UPDATE pgflow.step_tasks SET queued_at = queued_at - interval '1 hour', started_at = started_at - interval '1 hour'
WHERE run_id = '00000000-0000-0000-0000-00000000f010' AND status = 'started';
SELECT pgflow_tests.make_visible('wx_timeout');
SELECT is((SELECT array_agg(step_slug) FROM pgflow_tests.read_and_start('wx_timeout', 30, 10)), ARRAY['c'],
          'timeout: the claim that finds the deadline passed skips the step and claims the run''s other task (the run goes on)');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-00000000f010'),
          ARRAY['a:skipped:handler_failed', 'b:skipped:dependency_skipped', 'c:started'],
          'timeout: the timed-out step is skipped with its dependent, as an exhausted task''s');
SELECT ok((SELECT error_message LIKE 'Task timed out%' FROM pgflow.step_states
           WHERE run_id = '00000000-0000-0000-0000-00000000f010' AND step_slug = 'a'), 'timeout: the step keeps the timeout error');
SELECT pgflow_tests.make_visible('wx_timeout');
SELECT is((SELECT array_agg(step_slug) FROM pgflow_tests.read_and_start('wx_timeout', 30, 10)), NULL::text[],
          'timeout: nothing is left to claim');

SELECT * FROM finish();
