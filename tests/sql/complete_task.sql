-- complete_task: counters, dependency resolution, run completion with leaf outputs, archiving,
-- and the cases where it changes nothing.
SELECT plan(23);

SELECT pgflow.create_flow('diamond');
SELECT pgflow.add_step('diamond', 'connected_root');
SELECT pgflow.add_step('diamond', 'left', ARRAY['connected_root']);
SELECT pgflow.add_step('diamond', 'right', ARRAY['connected_root']);
SELECT pgflow.add_step('diamond', 'disconnected_root');
SELECT pgflow_tests.ensure_worker('diamond');
SELECT pgflow.start_flow('diamond', '{"v": 1}', '00000000-0000-0000-0000-0000000000d1');
SELECT pgflow.start_tasks('diamond', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id());

-- A task that is not started is left alone.
SELECT pgflow.create_flow('idle');
SELECT pgflow.add_step('idle', 'waiting');
SELECT pgflow.start_flow('idle', '{}', '00000000-0000-0000-0000-0000000000d2');
SELECT results_eq($$SELECT status, output FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000d2', 'waiting', 0, '"early"')$$,
                  $$VALUES ('queued'::text, NULL::jsonb)$$, 'completing a queued task changes nothing and returns it');
SELECT is((SELECT status FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000d2'), 'started',
          'its step is still started');
SELECT is((SELECT count(*) FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000d2', 'nosuch', 0, '1')), 0::bigint,
          'completing an unknown task returns nothing');

SELECT results_eq(
  $$SELECT status, output, completed_at IS NOT NULL FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000d1', 'connected_root', 0, '{"root": true}')$$,
  $$VALUES ('completed'::text, '{"root": true}'::jsonb, true)$$,
  'complete_task stores the output and returns the completed task');
SELECT results_eq(
  $$SELECT step_slug, status, remaining_tasks, remaining_deps FROM pgflow.step_states
    WHERE run_id = '00000000-0000-0000-0000-0000000000d1' ORDER BY step_slug$$,
  $$VALUES ('connected_root'::text, 'completed'::text, 0, 0), ('disconnected_root', 'started', 1, 0),
           ('left', 'started', 1, 0), ('right', 'started', 1, 0)$$,
  'the step completed, its dependents lost their remaining dep and started');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000d1'), 3,
          'remaining_steps dropped by one');
SELECT is(pgflow_tests.archived_ids('diamond'),
          ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE step_slug = 'connected_root'),
          'the completed task''s message is archived');
SELECT is((SELECT array_agg(message->>'step_slug' ORDER BY msg_id) FROM pgflow_tests.queued_messages('diamond')),
          ARRAY['disconnected_root', 'left', 'right'], 'messages for the newly started steps were sent');

SELECT results_eq($$SELECT status, output FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000d1', 'connected_root', 0, '"again"')$$,
                  $$VALUES ('completed'::text, '{"root": true}'::jsonb)$$,
                  'completing a completed task again changes nothing');
SELECT is((SELECT remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000d1'), 3,
          'and does not count the step twice');

SELECT pgflow.start_tasks('diamond', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE status = 'queued'), pgflow_tests.worker_id());
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d1', 'left', 0, '0');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d1', 'right', 0, 'false');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000d1'), 'started',
          'the run is not complete while a step remains');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d1', 'disconnected_root', 0, '""');
SELECT results_eq(
  $$SELECT status, remaining_steps, output, completed_at IS NOT NULL, failed_at FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000d1'$$,
  $$VALUES ('completed'::text, 0, '{"left": 0, "right": false, "disconnected_root": ""}'::jsonb, true, NULL::timestamptz)$$,
  'the last step completes the run; output holds the leaf steps only, falsy outputs kept');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('diamond')), 0::bigint, 'every message of the run is archived');
SELECT is((SELECT array_agg(output ORDER BY step_slug) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000d1'),
          ARRAY['{"root": true}', '""', '0', 'false']::jsonb[], 'falsy outputs are stored as they are');

-- Map step: remaining_tasks counts down; output aggregated by task_index whatever the completion order.
SELECT pgflow.create_flow('squares');
SELECT pgflow.add_step('squares', 'sq', step_type => 'map');
SELECT pgflow.start_flow('squares', '[1, 2, 3, 4]', '00000000-0000-0000-0000-0000000000d3');
SELECT pgflow.start_tasks('squares', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'squares'), pgflow_tests.worker_id());
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d3', 'sq', 3, '16');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d3', 'sq', 1, '4');
SELECT results_eq($$SELECT status, remaining_tasks, completed_at FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000d3'$$,
                  $$VALUES ('started'::text, 2, NULL::timestamptz)$$, 'remaining_tasks counts completed map tasks down');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d3', 'sq', 0, '1');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000d3', 'sq', 2, '9');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000d3'$$,
                  $$VALUES ('completed'::text, '{"sq": [1, 4, 9, 16]}'::jsonb)$$,
                  'a map leaf''s output is its task outputs ordered by task_index');

-- Dependent map sizing.
SELECT pgflow.create_flow('sizes');
SELECT pgflow.add_step('sizes', 'list');
SELECT pgflow.add_step('sizes', 'per_item', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('sizes', 'per_result', ARRAY['per_item'], step_type => 'map');
SELECT pgflow.start_flow('sizes', '{}', '00000000-0000-0000-0000-0000000000d4');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '["a", "b", "c"]') FROM pgflow_tests.read_and_start('sizes') t;
SELECT results_eq($$SELECT step_slug, initial_tasks, remaining_tasks, status FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000000d4' AND step_slug <> 'list' ORDER BY step_slug$$,
                  $$VALUES ('per_item'::text, 3, 3, 'started'::text), ('per_result', NULL, NULL, 'created')$$,
                  'a map over a single step is sized by its array output when that step completes');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, to_jsonb(t.task_index)) FROM pgflow_tests.read_and_start('sizes', 1, 2) t;
SELECT is((SELECT initial_tasks FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000d4' AND step_slug = 'per_result'),
          NULL::int, 'a map over a map stays unsized until every parent task is done');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, to_jsonb(t.task_index)) FROM pgflow_tests.read_and_start('sizes', 1, 5) t;
SELECT results_eq($$SELECT initial_tasks, remaining_tasks, status FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000000d4' AND step_slug = 'per_result'$$,
                  $$VALUES (3, 3, 'started'::text)$$, 'then it gets one task per parent task');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000d4' AND step_slug = 'per_result'),
          3::bigint, 'and its tasks are created');

-- On a failed run complete_task does nothing.
SELECT pgflow.create_flow('halted', max_attempts => 1);
SELECT pgflow.add_step('halted', 'ok_step');
SELECT pgflow.add_step('halted', 'bad_step');
SELECT pgflow.start_flow('halted', '{}', '00000000-0000-0000-0000-0000000000d5');
SELECT pgflow.start_tasks('halted', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE flow_slug = 'halted'), pgflow_tests.worker_id());
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000000d5', 'bad_step', 0, 'nope');
SELECT results_eq($$SELECT status, output FROM pgflow.complete_task('00000000-0000-0000-0000-0000000000d5', 'ok_step', 0, '"late"')$$,
                  $$VALUES ('cancelled'::text, NULL::jsonb)$$,
                  'on a failed run complete_task returns the task unchanged (cancelled when the run failed: pgflow 0.15.1)');
SELECT results_eq($$SELECT status, remaining_tasks FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000d5' AND step_slug = 'ok_step'$$,
                  $$VALUES ('started'::text, 1)$$, 'its step is not advanced');
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000000d5'$$,
                  $$VALUES ('failed'::text, 2)$$, 'the failed run keeps its counters');

SELECT * FROM finish();
