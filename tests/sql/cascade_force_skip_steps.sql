-- pgflow._cascade_force_skip_steps (pgflow 0.14 with 0.15.1's task statuses): skips a step and
-- its dependents transitively (trigger with the given reason, the others 'dependency_skipped'),
-- one step:skipped each in dependency order, their active tasks skipped and archived, the run
-- counted down once per step; steps skipped before are left alone, so a second call does nothing.
\ir fixtures/realtime_stand_in.sql
SELECT plan(23);

CREATE FUNCTION pg_temp.steps(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(step_slug || ':' || status || coalesce(':' || skip_reason, '') ORDER BY step_slug)
  FROM pgflow.step_states WHERE run_id = run
$$;
CREATE FUNCTION pg_temp.skip_events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM realtime.messages
  WHERE topic = 'pgflow:run:' || run AND event LIKE '%:skipped'
$$;
CREATE FUNCTION pg_temp.remaining(run uuid) RETURNS integer LANGUAGE sql AS $$
  SELECT remaining_steps FROM pgflow.runs WHERE run_id = run
$$;

-- Flow: a -> b -> c, a -> d, e independent; x -> c (c has two dependencies).
SELECT pgflow.create_flow('fs');
SELECT pgflow.add_step('fs', 'a');
SELECT pgflow.add_step('fs', 'x');
SELECT pgflow.add_step('fs', 'b', ARRAY['a']);
SELECT pgflow.add_step('fs', 'c', ARRAY['b', 'x']);
SELECT pgflow.add_step('fs', 'd', ARRAY['a']);
SELECT pgflow.add_step('fs', 'e');

SELECT throws_ok($$SELECT pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000c5000', 'a', 'condition_unmet')$$,
                 'P0001', 'Run not found: 00000000-0000-0000-0000-0000000c5000', 'an unknown run is an error');

-- single_step_skip: a leaf.
SELECT pgflow.start_flow('fs', '{}', '00000000-0000-0000-0000-0000000c5001');
SELECT is(pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000c5001', 'e', 'condition_unmet'), 1,
          'a step without dependents: one step skipped');
SELECT results_eq($$SELECT status, skip_reason, skipped_at IS NOT NULL, remaining_tasks FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-0000000c5001' AND step_slug = 'e'$$,
                  $$VALUES ('skipped'::text, 'condition_unmet'::text, true, NULL::integer)$$,
                  'a started step becomes skipped with the reason given, skipped_at, no remaining_tasks');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c5001' AND step_slug = 'e'),
          'skipped', 'its queued task is skipped');
SELECT ok(ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c5001' AND step_slug = 'e')
          <@ pgflow_tests.archived_ids('fs'), 'archives_task_messages_for_skipped_steps: its message is archived');
SELECT is(cardinality(pgflow_tests.archived_ids('fs')), 1, 'and no other');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-0000000c5001'), 5, 'remaining_steps drops by one');

-- skipped_event_payload
SELECT is((SELECT payload - 'skipped_at' FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000c5001'
             AND event = 'step:e:skipped'),
          jsonb_build_object('event_type', 'step:skipped', 'run_id', '00000000-0000-0000-0000-0000000c5001', 'flow_slug', 'fs',
                             'step_slug', 'e', 'status', 'skipped', 'skip_reason', 'condition_unmet'),
          'step:e:skipped: event_type, run_id, flow_slug, step_slug, status, skip_reason');
SELECT ok((SELECT (payload->>'skipped_at')::timestamptz = (SELECT skipped_at FROM pgflow.step_states
                     WHERE run_id = '00000000-0000-0000-0000-0000000c5001' AND step_slug = 'e')
           FROM realtime.messages WHERE event = 'step:e:skipped'), 'and the stored skipped_at');

-- idempotent_second_call
SELECT is(pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000c5001', 'e', 'condition_unmet'), 0,
          'a second call skips nothing');
SELECT is(pg_temp.skip_events('00000000-0000-0000-0000-0000000c5001'), ARRAY['step:e:skipped'], 'sends nothing');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-0000000c5001'), 5, 'and counts nothing');

-- cascade_to_single_dependent, cascade_through_multiple_levels, multi_dependency_partial_skip, broadcast_order
SELECT is(pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000c5001', 'a', 'handler_failed'), 4,
          'a started root with three dependents, two levels deep: four steps skipped');
SELECT is(pg_temp.steps('00000000-0000-0000-0000-0000000c5001'),
          ARRAY['a:skipped:handler_failed', 'b:skipped:dependency_skipped', 'c:skipped:dependency_skipped',
                'd:skipped:dependency_skipped', 'e:skipped:condition_unmet', 'x:started'],
          'the trigger keeps its reason, the dependents (c too, though x could still complete) get dependency_skipped');
SELECT is(pg_temp.skip_events('00000000-0000-0000-0000-0000000c5001'),
          ARRAY['step:e:skipped', 'step:a:skipped', 'step:b:skipped', 'step:c:skipped', 'step:d:skipped'],
          'one event each, in dependency (step_index) order');
SELECT is(pg_temp.remaining('00000000-0000-0000-0000-0000000c5001'), 1, 'remaining_steps drops by the number skipped');
SELECT results_eq($$SELECT remaining_deps FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000c5001'
                    AND step_slug IN ('b', 'c', 'd') ORDER BY step_slug$$,
                  $$VALUES (1), (2), (1)$$, 'nobody''s remaining_deps changes');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('fs')), 1::bigint, 'only x''s message is left in the queue');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1') FROM pgflow_tests.read_and_start('fs', 30, 10) AS t;
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-0000000c5001'$$,
                  $$VALUES ('completed'::text, 0)$$, 'the last other step completes the run');

-- does_not_archive_preexisting_skipped_step_messages: a step skipped earlier (here by hand, its
-- task and message left as they were) is not touched again, nor are its messages.
SELECT pgflow.start_flow('fs', '{}', '00000000-0000-0000-0000-0000000c5002');
UPDATE pgflow.step_states SET status = 'skipped', skip_reason = 'condition_unmet', skipped_at = now(), remaining_tasks = NULL
WHERE run_id = '00000000-0000-0000-0000-0000000c5002' AND step_slug = 'a';
SELECT is(pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000c5002', 'a', 'handler_failed'), 3,
          'a trigger skipped before: only its dependents are skipped now');
SELECT is((SELECT skip_reason FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000c5002' AND step_slug = 'a'),
          'condition_unmet', 'the trigger keeps its earlier reason');
SELECT is((SELECT status FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c5002' AND step_slug = 'a'),
          'queued', 'its task is not touched');
SELECT ok(NOT (SELECT message_id FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000c5002' AND step_slug = 'a')
          = ANY (pgflow_tests.archived_ids('fs')), 'nor its message');

SELECT * FROM finish();
