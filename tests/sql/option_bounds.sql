-- Options that would overflow an integer later are refused when a flow is registered, and the
-- retry back-off saturates instead of overflowing: a timeout must leave room for the 2 s that
-- start_tasks adds to it (constraint opt_timeout_fits_vt on flows and steps: 1 .. 2147483645),
-- and calculate_retry_delay stops at 2147483647 s.
SELECT plan(16);

-- timeout
SELECT lives_ok($$SELECT pgflow.create_flow('longest', timeout => 2147483645)$$,
                'a flow timeout of 2147483645 s (timeout + 2 still an integer) is accepted');
SELECT throws_ok($$SELECT pgflow.create_flow('too_long', timeout => 2147483646)$$, '23514',
                 'new row for relation "flows" violates check constraint "opt_timeout_fits_vt"',
                 'a flow timeout of 2147483646 s is refused, naming the constraint');
SELECT throws_ok($$SELECT pgflow.create_flow('too_long', timeout => 2147483647)$$, '23514', NULL,
                 'and so is 2147483647 s');
SELECT throws_ok($$SELECT pgflow.create_flow('too_short', timeout => 0)$$, '23514',
                 'new row for relation "flows" violates check constraint "opt_timeout_is_positive"',
                 'the lower bound is pgflow''s own, unchanged');
SELECT lives_ok($$SELECT pgflow.add_step('longest', 'slow', timeout => 2147483645)$$,
                'a step timeout of 2147483645 s is accepted');
SELECT throws_ok($$SELECT pgflow.add_step('longest', 'slower', timeout => 2147483646)$$, '23514',
                 'new row for relation "steps" violates check constraint "opt_timeout_fits_vt"',
                 'a step timeout of 2147483646 s is refused, naming the constraint');
SELECT lives_ok($$SELECT pgflow.add_step('longest', 'inherits')$$, 'a step without a timeout of its own is fine');

-- A flow at the bound runs: its claim sets visibility timeout + 2 without overflowing.
SELECT pgflow_tests.ensure_worker('longest');
SELECT pgflow.start_flow('longest', '{}', '00000000-0000-0000-0000-0000000b0001');
SELECT is((SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('longest', 5, 10, pgflow_tests.worker_id())), 2::bigint,
          'tasks of steps with the largest timeout are claimed (read_and_start_tasks)');
SELECT pgflow.start_flow('longest', '{}', '00000000-0000-0000-0000-0000000b0002');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('longest', 5, 10)), 2::bigint,
          'and by pgmq.read + start_tasks');

-- calculate_retry_delay
SELECT is(pgflow.calculate_retry_delay(3600, 20), 2147483647,
          'retry delay: base 3600, 20 attempts saturates at 2147483647 s (3600 * 2^20 is more)');
SELECT is(pgflow.calculate_retry_delay(3600, 21), 2147483647, 'base 3600, 21 attempts: saturated, no overflow');
SELECT is(pgflow.calculate_retry_delay(1, 2147483647), 2147483647, 'any number of attempts saturates');
SELECT is(pgflow.calculate_retry_delay(0, 2147483647), 0, 'a zero base delay stays zero');
SELECT is(pgflow.calculate_retry_delay(1, 30), 1073741824, 'below the bound the value is pgflow''s, exactly');

-- fail_task with that back-off re-queues the task instead of failing with "integer out of range".
SELECT pgflow.create_flow('patient', max_attempts => 100, base_delay => 3600);
SELECT pgflow.add_step('patient', 'flaky');
SELECT pgflow.start_flow('patient', '{}', '00000000-0000-0000-0000-0000000b0003');
SELECT count(*) FROM pgflow_tests.read_and_start('patient');
UPDATE pgflow.step_tasks SET attempts_count = 25 WHERE flow_slug = 'patient';
SELECT is((SELECT status FROM pgflow.fail_task('00000000-0000-0000-0000-0000000b0003', 'flaky', 0, 'again')), 'queued',
          'fail_task after 25 attempts with base_delay 3600 re-queues the task');
SELECT ok((SELECT pgflow_tests.visible_in('patient', message_id) > 2147483000 FROM pgflow.step_tasks WHERE flow_slug = 'patient'),
          'its message is hidden for the saturated delay');
SELECT * FROM finish();
