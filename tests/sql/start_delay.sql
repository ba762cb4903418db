-- opt_start_delay delays the messages of a step's tasks by that many seconds after the step
-- starts (roots at run start, dependents when their dependencies complete); NULL or 0 = at once.
SELECT plan(7);

SELECT pgflow.create_flow('delayed');
SELECT pgflow.add_step('delayed', 'r_none');
SELECT pgflow.add_step('delayed', 'r_zero', start_delay => 0);
SELECT pgflow.add_step('delayed', 'r_five_min', start_delay => 300);
SELECT pgflow.add_step('delayed', 'r_hour', start_delay => 3600, step_type => 'map');
SELECT pgflow.add_step('delayed', 'd_15min', ARRAY['r_none'], start_delay => 900);
SELECT pgflow.add_step('delayed', 'd_2h', ARRAY['r_zero'], start_delay => 7200);
SELECT pgflow.start_flow('delayed', '[1, 2]', '00000000-0000-0000-0000-0000000000b1');

SELECT results_eq(
  $$SELECT t.step_slug, round(pgflow_tests.delay_of('delayed', t.message_id))
    FROM pgflow.step_tasks t ORDER BY t.step_slug, t.task_index$$,
  $$VALUES ('r_five_min'::text, 300::numeric), ('r_hour', 3600), ('r_hour', 3600), ('r_none', 0), ('r_zero', 0)$$,
  'root messages: visible at once without a delay, otherwise after start_delay seconds (map tasks included)');
SELECT is((SELECT count(*) FROM pgmq.read('delayed', 30, 10)), 2::bigint, 'only the undelayed messages can be read now');
SELECT pgflow.start_tasks('delayed', ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE step_slug IN ('r_none', 'r_zero')),
                          pgflow_tests.ensure_worker('delayed'));
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000b1', 'r_none', 0, '1');
SELECT pgflow.complete_task('00000000-0000-0000-0000-0000000000b1', 'r_zero', 0, '1');
SELECT results_eq(
  $$SELECT t.step_slug, round(pgflow_tests.delay_of('delayed', t.message_id))
    FROM pgflow.step_tasks t WHERE t.step_slug LIKE 'd\_%' ORDER BY t.step_slug$$,
  $$VALUES ('d_15min'::text, 900::numeric), ('d_2h', 7200)$$,
  'dependent messages are delayed from the moment their dependencies complete');
SELECT results_eq($$SELECT step_slug, status FROM pgflow.step_states WHERE step_slug LIKE 'd\_%' ORDER BY 1$$,
                  $$VALUES ('d_15min'::text, 'started'::text), ('d_2h', 'started')$$,
                  'a delayed step is started (its tasks wait in the queue)');
SELECT is((SELECT count(*) FROM pgmq.read('delayed', 30, 10)), 0::bigint, 'delayed messages cannot be read before their time');
SELECT pgflow_tests.make_visible('delayed');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('delayed', 30, 10)), 5::bigint, 'once due they are claimed normally');
SELECT is((SELECT opt_start_delay FROM pgflow.steps WHERE step_slug = 'r_none'), NULL::int, 'no start_delay is stored as NULL');

SELECT * FROM finish();
