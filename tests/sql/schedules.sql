-- Schedules: add / update / enable / remove with their errors, run_due_schedules starting each due
-- tick once (catch_up 'one' and 'all', a failing tick, a tick already recorded, max_runs), prune
-- schedules, and the scheduler lease.
SELECT plan(58);

SELECT pgflow.create_flow('sched');
SELECT pgflow.add_step('sched', 'a');

-- A schedule made due at a chosen tick (the owner may write the table; callers cannot).
CREATE FUNCTION pg_temp.due_at(schedule text, at timestamptz) RETURNS void LANGUAGE sql
AS $$ UPDATE pgflow_cpp.schedules SET next_run_at = at WHERE name = schedule $$;
CREATE FUNCTION pg_temp.runs_of(schedule text) RETURNS bigint LANGUAGE sql
AS $$ SELECT count(*) FROM pgflow_cpp.schedule_runs r JOIN pgflow.runs USING (run_id) WHERE r.schedule_name = schedule $$;

-- Adding
SELECT results_eq($$SELECT name, kind, flow_slug, input, cron, time_zone, catch_up, enabled, next_run_at > now()
                    FROM pgflow_cpp.add_schedule('nightly', 'sched', '0 2 * * *', '{"n": 1}', 'Europe/Berlin')$$,
                  $$VALUES ('nightly'::text, 'flow'::text, 'sched'::text, '{"n": 1}'::jsonb, '0 2 * * *'::text,
                            'Europe/Berlin'::text, 'one'::text, true, true)$$, 'add_schedule stores the schedule and its first tick');
SELECT is((SELECT next_run_at FROM pgflow_cpp.schedules WHERE name = 'nightly'),
          pgflow_cpp.cron_next_run('0 2 * * *', 'Europe/Berlin', now()), 'the first tick is the next one after now');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('nightly', 'sched', '@daily')$$, '23505',
  'add_schedule: a schedule named "nightly" exists already (update_schedule changes it, remove_schedule removes it)', 'a name is taken once');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('x', 'nope', '@daily')$$, '23503',
  'add_schedule: flow "nope" is not registered (register it, e.g. by starting its worker, first)', 'the flow must be registered');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('x', 'sched', '0 0 * * * * *')$$, '22023', NULL, 'a bad cron expression is refused');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('x', 'sched', '@daily', time_zone => 'Nowhere/Land')$$, '22023',
  'unknown time zone "Nowhere/Land" (use a name from pg_timezone_names, e.g. Europe/Berlin or UTC)', 'a bad time zone is refused');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('x', 'sched', '@daily', catch_up => 'every')$$, '22023',
  'catch_up must be ''one'' (one run for a missed window) or ''all'' (one run per missed tick), not ''every''', 'an unknown catch-up policy');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('x', 'sched', '@daily', NULL)$$, '22004', NULL, 'a NULL input');
SELECT throws_ok($$SELECT pgflow_cpp.add_prune_schedule('p', '-1 day', '@daily')$$, '22023',
  'add_prune_schedule: retention must be a positive interval, not -1 days', 'a prune schedule needs a positive retention');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule(NULL, 'sched', '@daily')$$, '22004',
  'add_schedule: name is NULL (a schedule name is a non-empty text)', 'a NULL name is a named error, not the column''s not-null');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('', 'sched', '@daily')$$, '22023',
  'add_schedule: name is empty (a schedule name is a non-empty text)', 'an empty name is a named error, not schedules_name_check');
SELECT throws_ok($$SELECT pgflow_cpp.add_prune_schedule(NULL, '30 days', '@daily')$$, '22004',
  'add_prune_schedule: name is NULL (a schedule name is a non-empty text)', 'prune schedule: a NULL name');
SELECT throws_ok($$SELECT pgflow_cpp.add_prune_schedule('', '30 days', '@daily')$$, '22023',
  'add_prune_schedule: name is empty (a schedule name is a non-empty text)', 'prune schedule: an empty name');
SELECT throws_ok($$SELECT pgflow_cpp.add_prune_schedule('p', '0', '@daily')$$, '22023',
  'add_prune_schedule: retention must be a positive interval, not 00:00:00', 'a zero retention');
SELECT lives_ok($$SELECT pgflow_cpp.add_schedule(' ', 'sched', '@daily'); SELECT pgflow_cpp.remove_schedule(' ')$$,
  'any non-empty name is a name (a blank one too)');
SELECT is((SELECT count(*) FROM pgflow_cpp.schedules), 1::bigint, 'nothing refused was stored');

-- Updating, pausing, resuming
SELECT is((SELECT input FROM pgflow_cpp.update_schedule('nightly', input => '{"n": 2}')), '{"n": 2}'::jsonb, 'update_schedule changes the input');
SELECT is((SELECT cron || ' ' || time_zone FROM pgflow_cpp.schedules WHERE name = 'nightly'), '0 2 * * * Europe/Berlin', 'and keeps the rest');
SELECT is((SELECT next_run_at FROM pgflow_cpp.update_schedule('nightly', cron => '0 3 * * *', time_zone => 'UTC')),
          pgflow_cpp.cron_next_run('0 3 * * *', 'UTC', now()), 'a new cron and zone compute the next tick afresh');
-- A flow with a root map takes an array: start_flow would refuse any other input at every tick.
SELECT pgflow.create_flow('sched_map');
SELECT pgflow.add_step('sched_map', 'each', step_type => 'map');
SELECT throws_ok($$SELECT pgflow_cpp.add_schedule('m', 'sched_map', '@daily', '{"not": "array"}')$$, '22023',
                 'add_schedule: flow "sched_map" has root map steps, so its input must be an array (got object)',
                 'a root map flow''s schedule needs an array input');
SELECT lives_ok($$SELECT pgflow_cpp.add_schedule('m', 'sched_map', '@daily', '[1, 2]')$$, 'an array is fine');
SELECT throws_ok($$SELECT pgflow_cpp.update_schedule('m', input => '7')$$, '22023',
                 'update_schedule: flow "sched_map" has root map steps, so its input must be an array (got number)',
                 'and update_schedule checks a new input');
SELECT throws_ok($$SELECT pgflow_cpp.update_schedule('nightly', flow_slug => 'sched_map')$$, '22023',
                 'update_schedule: flow "sched_map" has root map steps, so its input must be an array (got object)',
                 'or the old input against a new flow');
SELECT throws_ok($$SELECT pgflow_cpp.update_schedule('nobody', input => '{}')$$, 'P0002', 'update_schedule: no schedule named "nobody"', 'update: unknown name');
SELECT throws_ok($$SELECT pgflow_cpp.update_schedule('nightly', cron => '* * 32 * *')$$, '22023', NULL, 'update: a bad cron expression');
SELECT is((SELECT enabled FROM pgflow_cpp.set_schedule_enabled('nightly', false)), false, 'set_schedule_enabled pauses');
SELECT pg_temp.due_at('nightly', now() - interval '3 days');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_due_schedules()), 0::bigint, 'a paused schedule starts nothing');
SELECT ok((SELECT next_run_at > now() FROM pgflow_cpp.set_schedule_enabled('nightly', true)),
          'resuming starts from the next tick after now: the paused window is not caught up');
SELECT throws_ok($$SELECT pgflow_cpp.set_schedule_enabled('nobody', true)$$, 'P0002', 'set_schedule_enabled: no schedule named "nobody"', 'enable: unknown name');

-- catch_up 'one': a missed window of three ticks starts one run, recorded at the first missed tick.
SELECT pgflow_cpp.add_schedule('hourly_one', 'sched', '0 * * * *', '{"k": "one"}');
SELECT pg_temp.due_at('hourly_one', date_trunc('hour', now()) - interval '2 hours');
SELECT results_eq($$SELECT schedule_name, scheduled_at, error FROM pgflow_cpp.run_due_schedules()$$,
                  $$VALUES ('hourly_one'::text, date_trunc('hour', now()) - interval '2 hours', NULL::text)$$,
                  'catch_up one: one run for the missed window, at its first tick');
SELECT is((SELECT input FROM pgflow.runs r JOIN pgflow_cpp.schedule_runs s USING (run_id) WHERE s.schedule_name = 'hourly_one'),
          '{"k": "one"}'::jsonb, 'the run has the schedule''s input');
SELECT is((SELECT next_run_at FROM pgflow_cpp.schedules WHERE name = 'hourly_one'), date_trunc('hour', now()) + interval '1 hour',
          'and the next tick is the first after now');
SELECT results_eq($$SELECT last_run_at, last_run_id IS NOT NULL, last_error FROM pgflow_cpp.schedules WHERE name = 'hourly_one'$$,
                  $$VALUES (date_trunc('hour', now()) - interval '2 hours', true, NULL::text)$$, 'last_run_at and last_run_id say what ran');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_due_schedules()), 0::bigint, 'a second call finds nothing due');

-- catch_up 'all': one run per missed tick, oldest first, at most max_runs per call.
SELECT pgflow_cpp.add_schedule('hourly_all', 'sched', '0 * * * *', catch_up => 'all');
SELECT pg_temp.due_at('hourly_all', date_trunc('hour', now()) - interval '4 hours');
SELECT results_eq($$SELECT scheduled_at FROM pgflow_cpp.run_due_schedules(3)$$,
                  $$VALUES (date_trunc('hour', now()) - interval '4 hours'), (date_trunc('hour', now()) - interval '3 hours'),
                           (date_trunc('hour', now()) - interval '2 hours')$$, 'catch_up all: the oldest ticks first, max_runs of them');
SELECT is((SELECT next_run_at FROM pgflow_cpp.schedules WHERE name = 'hourly_all'), date_trunc('hour', now()) - interval '1 hour',
          'next_run_at is the first tick not started');
SELECT results_eq($$SELECT scheduled_at FROM pgflow_cpp.run_due_schedules()$$,
                  $$VALUES (date_trunc('hour', now()) - interval '1 hour'), (date_trunc('hour', now()))$$, 'the next call goes on');
SELECT is(pg_temp.runs_of('hourly_all'), 5::bigint, 'five ticks, five runs');

-- A tick already recorded (a scheduler that died between the two) is not started again.
SELECT pg_temp.due_at('hourly_all', date_trunc('hour', now()) - interval '1 hour');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_due_schedules()), 0::bigint, 'a recorded tick never starts twice');
SELECT is(pg_temp.runs_of('hourly_all'), 5::bigint, 'still five runs');
SELECT is((SELECT next_run_at FROM pgflow_cpp.schedules WHERE name = 'hourly_all'), date_trunc('hour', now()) + interval '1 hour',
          'and the schedule moves past it');

-- A tick that cannot start is recorded with its error; the others still start.
SELECT pgflow_cpp.add_schedule('bad_input', 'sched', '0 * * * *');
UPDATE pgflow_cpp.schedules SET flow_slug = 'dropped_flow' WHERE name = 'bad_input';  -- as if the flow were gone
SELECT pgflow_cpp.add_schedule('fine', 'sched', '0 * * * *');
SELECT pg_temp.due_at('bad_input', date_trunc('hour', now()));
SELECT pg_temp.due_at('fine', date_trunc('hour', now()));
SELECT results_eq($$SELECT schedule_name, run_id IS NULL, error IS NULL FROM pgflow_cpp.run_due_schedules() ORDER BY 1$$,
                  $$VALUES ('bad_input'::text, true, false), ('fine'::text, false, true)$$,
                  'a failing tick is reported and does not stop the others');
SELECT ok((SELECT last_error IS NOT NULL AND next_run_at > now() FROM pgflow_cpp.schedules WHERE name = 'bad_input'),
          'the failing schedule keeps its error and moves on');

-- A prune schedule runs pgflow.prune_data_older_than(retention).
SELECT pgflow.start_flow('sched', '{}', '00000000-0000-0000-0000-0000000d0001');
SELECT pgflow_tests.run_visible_tasks('sched');
UPDATE pgflow.runs SET started_at = now() - interval '41 days', completed_at = now() - interval '40 days' WHERE run_id = '00000000-0000-0000-0000-0000000d0001';
SELECT pgflow_cpp.add_prune_schedule('prune', '30 days', '0 3 * * *');
SELECT pg_temp.due_at('prune', now() - interval '1 minute');
SELECT results_eq($$SELECT schedule_name, run_id, error FROM pgflow_cpp.run_due_schedules() WHERE schedule_name = 'prune'$$,
                  $$VALUES ('prune'::text, NULL::uuid, NULL::text)$$, 'a prune tick starts no run');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000d0001'), 0::bigint, 'it pruned the old run');

-- Removing
SELECT is(pgflow_cpp.remove_schedule('hourly_all'), true, 'remove_schedule removes');
SELECT is((SELECT count(*) FROM pgflow_cpp.schedule_runs WHERE schedule_name = 'hourly_all'), 0::bigint, 'with its tick history');
SELECT is(pgflow_cpp.remove_schedule('hourly_all'), false, 'and says false for an unknown name');

-- The lease
SELECT is(ARRAY[pgflow_cpp.acquire_scheduler_lease('a', 60), pgflow_cpp.acquire_scheduler_lease('b', 60),
                pgflow_cpp.acquire_scheduler_lease('a', 60)],
          ARRAY[true, false, true], 'one holder at a time; the holder renews');
SELECT is(ARRAY[pgflow_cpp.release_scheduler_lease('b'), pgflow_cpp.release_scheduler_lease('a'), pgflow_cpp.acquire_scheduler_lease('b', 0.01)],
          ARRAY[false, true, true], 'only the holder releases; then another takes it');
SELECT pg_sleep(0.05);
SELECT is(pgflow_cpp.acquire_scheduler_lease('c', 60), true, 'an expired lease goes to the next caller');
-- A lease of NaN, infinite or more than a day (the documented 22023, not interval out of range).
SELECT throws_ok($$SELECT pgflow_cpp.acquire_scheduler_lease('d', 'NaN')$$, '22023',
  'acquire_scheduler_lease: holder must be a non-empty name and lease_seconds positive, at most 86400 (a day) (got ''d'', NaN)',
  'a NaN lease is refused');
SELECT throws_ok($$SELECT pgflow_cpp.acquire_scheduler_lease('d', 'Infinity')$$, '22023',
  'acquire_scheduler_lease: holder must be a non-empty name and lease_seconds positive, at most 86400 (a day) (got ''d'', Infinity)',
  'an infinite lease is refused');
SELECT throws_ok($$SELECT pgflow_cpp.acquire_scheduler_lease('d', 1e300)$$, '22023',
  'acquire_scheduler_lease: holder must be a non-empty name and lease_seconds positive, at most 86400 (a day) (got ''d'', 1e+300)',
  'a lease of 1e300 s is refused');
SELECT throws_ok($$SELECT pgflow_cpp.acquire_scheduler_lease('d', 86400.5)$$, '22023', NULL, 'a lease of more than a day is refused');
SELECT throws_ok($$SELECT pgflow_cpp.acquire_scheduler_lease('', 3)$$, '22023',
  'acquire_scheduler_lease: holder must be a non-empty name and lease_seconds positive, at most 86400 (a day) (got '''', 3)',
  'an empty holder is refused');
SELECT is((SELECT holder FROM pgflow_cpp.scheduler_lease), 'c', 'the refused calls left the lease alone');
SELECT is(ARRAY[pgflow_cpp.release_scheduler_lease('c'), pgflow_cpp.acquire_scheduler_lease('d', 86400)], ARRAY[true, true],
  'a lease of exactly a day is taken');

SELECT * FROM finish();
