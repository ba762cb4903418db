-- pgflow.cascade_resolve_conditions (pgflow 0.14, with 0.15.1's changes): a step's `if`/`ifNot`
-- is tested once, when it becomes ready, against the run input (root steps) or the outputs of
-- its completed dependencies; unmet steps fail the run, are skipped, or are skipped with their
-- dependents, as when_unmet says. Events through the realtime stand-in.
\ir fixtures/realtime_stand_in.sql
SELECT plan(58);

-- 'slug:status[:skip_reason]' of every step of a run, by step_index.
CREATE FUNCTION pg_temp.states(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(ss.step_slug || ':' || ss.status || coalesce(':' || ss.skip_reason, '') ORDER BY s.step_index)
  FROM pgflow.step_states AS ss JOIN pgflow.steps AS s ON s.flow_slug = ss.flow_slug AND s.step_slug = ss.step_slug
  WHERE ss.run_id = run
$$;
CREATE FUNCTION pg_temp.start(flow text, input jsonb) RETURNS uuid LANGUAGE sql AS $$
  SELECT run_id FROM pgflow.start_flow(flow, input)
$$;
CREATE FUNCTION pg_temp.task_count(run uuid) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.step_tasks WHERE run_id = run
$$;
-- Claims and completes the run's task of step with output.
CREATE FUNCTION pg_temp.finish(run uuid, step text, output jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.start_tasks(t.flow_slug, ARRAY[t.message_id], pgflow_tests.worker_id())
  FROM pgflow.step_tasks AS t WHERE t.run_id = run AND t.step_slug = step AND t.status = 'queued';
  RETURN (SELECT c.status FROM pgflow.complete_task(run, step, 0, output) AS c);
END;
$$;
-- A run's events without run_id and times: 'event {payload}'.
CREATE FUNCTION pg_temp.events(run uuid) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(m.event || ' ' || (SELECT coalesce(jsonb_object_agg(p.key, p.value), '{}') FROM jsonb_each(m.payload) AS p
                                      WHERE p.key <> 'run_id' AND p.key NOT LIKE '%\_at')::text ORDER BY m.id)
  FROM realtime.messages AS m WHERE m.topic = 'pgflow:run:' || run
$$;

-- Root steps: tested against the run input.
SELECT pgflow.create_flow('root_if');
SELECT pgflow.add_step('root_if', 'gated', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('root_if', 'other');
SELECT pgflow_tests.ensure_worker('root_if');

SELECT set_config('t.run', pg_temp.start('root_if', '{"go": true, "extra": 1}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['gated:started', 'other:started'],
          'root_step_condition_met: a partial object pattern matches, the step starts');

SELECT set_config('t.run', pg_temp.start('root_if', '{"go": false}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['gated:skipped:condition_unmet', 'other:started'],
          'root_step_condition_unmet_skip: the step is skipped with condition_unmet');
SELECT results_eq(
  $$SELECT ss.skipped_at IS NOT NULL, ss.started_at, ss.remaining_tasks, ss.initial_tasks, r.remaining_steps
    FROM pgflow.step_states AS ss JOIN pgflow.runs AS r ON r.run_id = ss.run_id
    WHERE ss.run_id = current_setting('t.run')::uuid AND ss.step_slug = 'gated'$$,
  $$VALUES (true, NULL::timestamptz, NULL::integer, 1, 1)$$,
  'the skipped step has skipped_at, no remaining_tasks, and the run one step less');
SELECT is((SELECT array_agg(step_slug) FROM pgflow.step_tasks WHERE run_id = current_setting('t.run')::uuid),
          ARRAY['other'], 'no task (and no message) for the skipped step');
SELECT is(pg_temp.events(current_setting('t.run')::uuid),
          ARRAY['run:started {"input": {"go": false}, "status": "started", "flow_slug": "root_if", "event_type": "run:started", "remaining_steps": 2}',
                'step:gated:skipped {"status": "skipped", "flow_slug": "root_if", "step_slug": "gated", "event_type": "step:skipped", "skip_reason": "condition_unmet"}',
                'step:other:started {"status": "started", "step_slug": "other", "event_type": "step:started", "remaining_deps": 0, "remaining_tasks": 1}'],
          'run:started, step:gated:skipped (with flow_slug), then the other step starts');
SELECT is((SELECT array_agg(k ORDER BY k) FROM realtime.messages AS m, jsonb_object_keys(m.payload) AS k
           WHERE m.topic = 'pgflow:run:' || current_setting('t.run') AND m.event = 'step:gated:skipped'),
          ARRAY['event_type', 'flow_slug', 'run_id', 'skip_reason', 'skipped_at', 'status', 'step_slug'],
          'step:skipped payload keys');
SELECT is(pg_temp.finish(current_setting('t.run')::uuid, 'other', '"o"'), 'completed', 'the other step completes');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = current_setting('t.run')::uuid$$,
                  $$VALUES ('completed'::text, '{"other": "o"}'::jsonb)$$,
                  'the run completes; its output omits the skipped leaf');

SELECT set_config('t.run', pg_temp.start('root_if', '{}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['gated:skipped:condition_unmet', 'other:started'],
          'a missing field does not match');

-- Only step skipped: the run completes inside start_flow, with output NULL.
SELECT pgflow.create_flow('lonely');
SELECT pgflow.add_step('lonely', 'only', required_input_pattern => '{"go": true}');
SELECT results_eq($$SELECT status, output, remaining_steps FROM pgflow.start_flow('lonely', '{"go": 0}', '00000000-0000-0000-0000-00000000c001')$$,
                  $$VALUES ('completed'::text, NULL::jsonb, 0)$$,
                  'a run whose only step is skipped completes at start, output NULL');
SELECT is((SELECT payload FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-00000000c001' AND event = 'run:completed')
            ->'output', 'null'::jsonb, 'run:completed carries "output": null');

-- fail: the run fails at start, no task is created, one step:failed and one run:failed.
SELECT pgflow.create_flow('root_fail');
SELECT pgflow.add_step('root_fail', 'first', required_input_pattern => '{"ok": true}', when_unmet => 'fail');
SELECT pgflow.add_step('root_fail', 'second', required_input_pattern => '{"ok": true}', when_unmet => 'fail');
SELECT pgflow.add_step('root_fail', 'plain');
SELECT results_eq($$SELECT status, failed_at IS NOT NULL, remaining_steps
                    FROM pgflow.start_flow('root_fail', '{"ok": false}', '00000000-0000-0000-0000-00000000c002')$$,
                  $$VALUES ('failed'::text, true, 3)$$,
                  'root_step_condition_unmet_fail: start_flow returns the failed run row');
SELECT is(pg_temp.states('00000000-0000-0000-0000-00000000c002'), ARRAY['first:failed', 'second:created', 'plain:created'],
          'only the first fail-mode step by step_index fails; nothing starts');
SELECT results_eq($$SELECT error_message, failed_at IS NOT NULL FROM pgflow.step_states
                    WHERE run_id = '00000000-0000-0000-0000-00000000c002' AND step_slug = 'first'$$,
                  $$VALUES ('Condition not met'::text, true)$$, 'the step''s error is "Condition not met"');
SELECT is(pg_temp.task_count('00000000-0000-0000-0000-00000000c002'), 0::bigint, 'no task was created');
SELECT is(pg_temp.events('00000000-0000-0000-0000-00000000c002'),
          ARRAY['run:started {"input": {"ok": false}, "status": "started", "flow_slug": "root_fail", "event_type": "run:started", "remaining_steps": 3}',
                'step:first:failed {"status": "failed", "step_slug": "first", "event_type": "step:failed", "error_message": "Condition not met"}',
                'run:failed {"status": "failed", "flow_slug": "root_fail", "event_type": "run:failed", "error_message": "Condition not met"}'],
          'root_unmet_fail_emits_failure_events: one step:failed, one run:failed, "Condition not met"');
SELECT is((SELECT count(*) FROM realtime.messages WHERE topic = 'pgflow:run:00000000-0000-0000-0000-00000000c002'
             AND payload ? 'failed_at' AND payload->>'failed_at' IS NOT NULL), 2::bigint, 'both carry failed_at');
SELECT is(pgflow.cascade_resolve_conditions('00000000-0000-0000-0000-00000000c002'), false,
          'called again on the failed run: false, and nothing changes');
SELECT is(cardinality(pg_temp.events('00000000-0000-0000-0000-00000000c002')), 3, 'no more events');
SELECT is(pgflow.cascade_resolve_conditions('00000000-0000-0000-0000-00000000c001'), true, 'on a completed run: true');

-- skip-cascade from a root: the step and its dependents.
SELECT pgflow.create_flow('root_cascade');
SELECT pgflow.add_step('root_cascade', 'a', required_input_pattern => '{"go": true}', when_unmet => 'skip-cascade');
SELECT pgflow.add_step('root_cascade', 'b', ARRAY['a']);
SELECT pgflow.add_step('root_cascade', 'c', ARRAY['b']);
SELECT pgflow.add_step('root_cascade', 'free');
SELECT set_config('t.run', pg_temp.start('root_cascade', '{}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid),
          ARRAY['a:skipped:condition_unmet', 'b:skipped:dependency_skipped', 'c:skipped:dependency_skipped', 'free:started'],
          'root_step_condition_unmet_skip_cascade: the step with condition_unmet, its dependents with dependency_skipped');
SELECT results_eq($$SELECT remaining_steps, status FROM pgflow.runs WHERE run_id = current_setting('t.run')::uuid$$,
                  $$VALUES (1, 'started'::text)$$, 'remaining_steps counts each skipped step once');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:' || current_setting('t.run')
             AND event LIKE '%:skipped'),
          ARRAY['step:a:skipped', 'step:b:skipped', 'step:c:skipped'], 'one step:skipped each, in dependency order');
SELECT is(pg_temp.finish(current_setting('t.run')::uuid, 'free', '1'), 'completed', 'the free step completes');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = current_setting('t.run')::uuid$$,
                  $$VALUES ('completed'::text, '{"free": 1}'::jsonb)$$, 'and the run with it');

-- ifNot on a root step, in each mode.
SELECT pgflow.create_flow('not_root');
SELECT pgflow.add_step('not_root', 'skip_me', forbidden_input_pattern => '{"block": true}');
SELECT pgflow.add_step('not_root', 'cascade_me', forbidden_input_pattern => '{"block": true}', when_unmet => 'skip-cascade');
SELECT pgflow.add_step('not_root', 'after', ARRAY['cascade_me']);
SELECT set_config('t.run', pg_temp.start('not_root', '{"block": false}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['skip_me:started', 'cascade_me:started', 'after:created'],
          'ifnot_root_step_pattern_not_matches: the steps start');
SELECT set_config('t.run', pg_temp.start('not_root', '{"block": true}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid),
          ARRAY['skip_me:skipped:condition_unmet', 'cascade_me:skipped:condition_unmet', 'after:skipped:dependency_skipped'],
          'ifnot_root_step_pattern_matches_skip / _skip_cascade');
SELECT results_eq($$SELECT status, output FROM pgflow.runs WHERE run_id = current_setting('t.run')::uuid$$,
                  $$VALUES ('completed'::text, NULL::jsonb)$$, 'everything skipped: the run completes with output NULL');
SELECT pgflow.create_flow('not_root_fail');
SELECT pgflow.add_step('not_root_fail', 'guard', forbidden_input_pattern => '{"block": true}', when_unmet => 'fail');
SELECT is((SELECT status FROM pgflow.start_flow('not_root_fail', '{"block": true, "x": 1}')), 'failed',
          'ifnot_root_step_pattern_matches_fail: the run fails');

-- if and ifNot together: both must hold.
SELECT pgflow.create_flow('combined');
SELECT pgflow.add_step('combined', 's', required_input_pattern => '{"role": "admin"}',
                       forbidden_input_pattern => '{"suspended": true}');
SELECT is((SELECT array_agg((pg_temp.states(pg_temp.start('combined', i)))[1] ORDER BY o)
           FROM unnest(ARRAY['{"role": "admin"}', '{"role": "admin", "suspended": true}', '{"role": "user"}',
                             '{"role": "user", "suspended": true}', '{"role": "admin", "suspended": false}']::jsonb[])
                WITH ORDINALITY AS u(i, o)),
          ARRAY['s:started', 's:skipped:condition_unmet', 's:skipped:condition_unmet', 's:skipped:condition_unmet', 's:started'],
          'combined_if_and_ifnot: met only when if matches AND ifNot does not');

-- Containment: arrays match when they contain the listed elements, in any order; scalars exactly.
SELECT pgflow.create_flow('contain');
SELECT pgflow.add_step('contain', 's', required_input_pattern => '{"tags": ["b", "a"], "n": 1}');
SELECT is((SELECT array_agg((pg_temp.states(pg_temp.start('contain', i)))[1] ORDER BY o)
           FROM unnest(ARRAY['{"tags": ["a", "x", "b"], "n": 1}', '{"tags": ["a"], "n": 1}', '{"tags": ["a", "b"], "n": 1.0}',
                             '{"tags": ["a", "b"], "n": "1"}']::jsonb[]) WITH ORDINALITY AS u(i, o)),
          ARRAY['s:started', 's:skipped:condition_unmet', 's:started', 's:skipped:condition_unmet'],
          'jsonb containment: array elements order-free, numbers by value, no type coercion');

-- Opposite branches: exactly one runs.
SELECT pgflow.create_flow('branches');
SELECT pgflow.add_step('branches', 'classify');
SELECT pgflow.add_step('branches', 'urgent', ARRAY['classify'], required_input_pattern => '{"classify": {"priority": "high"}}');
SELECT pgflow.add_step('branches', 'normal', ARRAY['classify'], forbidden_input_pattern => '{"classify": {"priority": "high"}}');
SELECT pgflow_tests.ensure_worker('branches');
SELECT set_config('t.run', pg_temp.start('branches', '{}')::text, false);
SELECT pg_temp.finish(current_setting('t.run')::uuid, 'classify', '{"priority": "high"}');
SELECT is(pg_temp.states(current_setting('t.run')::uuid),
          ARRAY['classify:completed', 'urgent:started', 'normal:skipped:condition_unmet'],
          'branching_opposite_conditions: the matching branch runs, the other is skipped');
SELECT set_config('t.run', pg_temp.start('branches', '{}')::text, false);
SELECT pg_temp.finish(current_setting('t.run')::uuid, 'classify', '{"other": 1}');
SELECT is(pg_temp.states(current_setting('t.run')::uuid),
          ARRAY['classify:completed', 'urgent:skipped:condition_unmet', 'normal:started'],
          'a missing field matches neither if: the ifNot branch runs');

-- Dependent steps: tested against {dep: output}.
SELECT pgflow.create_flow('dep');
SELECT pgflow.add_step('dep', 'a');
SELECT pgflow.add_step('dep', 'b', ARRAY['a'], required_input_pattern => '{"a": {"ok": true}}');
SELECT pgflow_tests.ensure_worker('dep');
SELECT set_config('t.run', pg_temp.start('dep', '{"ok": false}')::text, false);
SELECT pg_temp.finish(current_setting('t.run')::uuid, 'a', '{"ok": true, "n": 2}');
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['a:completed', 'b:started'],
          'dependent_step_condition_met: the dependency''s output is tested, not the run input');
SELECT set_config('t.run', pg_temp.start('dep', '{"ok": true}')::text, false);
SELECT is(pg_temp.finish(current_setting('t.run')::uuid, 'a', '{"ok": false}'), 'completed',
          'complete_task of the dependency returns its completed row');
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['a:completed', 'b:skipped:condition_unmet'],
          'dependent_step_condition_unmet_skip: the dependent is skipped');
SELECT results_eq($$SELECT status, output, remaining_steps FROM pgflow.runs WHERE run_id = current_setting('t.run')::uuid$$,
                  $$VALUES ('completed'::text, NULL::jsonb, 0)$$,
                  'the skipped step was the last: the run completes, output NULL (its only leaf was skipped)');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:' || current_setting('t.run')),
          ARRAY['run:started', 'step:a:started', 'step:a:completed', 'step:b:skipped', 'run:completed'],
          'events: the skip comes right after the dependency''s completion');

-- No condition: always runs (also on a flow that has conditions elsewhere).
SELECT set_config('t.run', pg_temp.start('root_if', '{"go": true}')::text, false);
SELECT is((pg_temp.states(current_setting('t.run')::uuid))[2], 'other:started', 'no_condition_always_executes');

-- A plain skip releases children, which are evaluated in turn until nothing changes.
SELECT pgflow.create_flow('converge');
SELECT pgflow.add_step('converge', 'a', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('converge', 'b', ARRAY['a'], required_input_pattern => '{"a": {"x": 1}}');
SELECT pgflow.add_step('converge', 'c', ARRAY['b']);
SELECT pgflow_tests.ensure_worker('converge');
SELECT set_config('t.run', pg_temp.start('converge', '{}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid),
          ARRAY['a:skipped:condition_unmet', 'b:skipped:condition_unmet', 'c:started'],
          'plain_skip_iterates_until_convergence: b''s pattern on skipped a is unmet; c starts');
SELECT is((SELECT input FROM pgflow_tests.read_and_start('converge') WHERE run_id = current_setting('t.run')::uuid),
          '{"run": {}}'::jsonb, 'c''s only dependency was skipped: its input has no key for it');

-- A plain skip empties a dependent map, which completes with [] and releases its dependents.
SELECT pgflow.create_flow('to_map');
SELECT pgflow.add_step('to_map', 'list', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('to_map', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow.add_step('to_map', 'sum', ARRAY['each']);
SELECT set_config('t.run', pg_temp.start('to_map', '{}')::text, false);
SELECT results_eq($$SELECT step_slug, status, initial_tasks, remaining_tasks FROM pgflow.step_states
                    WHERE run_id = current_setting('t.run')::uuid ORDER BY step_slug$$,
                  $$VALUES ('each'::text, 'completed'::text, 0, 0), ('list', 'skipped', 1, NULL::integer), ('sum', 'started', 1, 1)$$,
                  'plain_skip_propagates_to_map: the map gets initial_tasks 0 and completes with []');
SELECT is((SELECT payload->'output' FROM realtime.messages WHERE topic = 'pgflow:run:' || current_setting('t.run')
             AND event = 'step:each:completed'), '[]'::jsonb, 'step:each:completed carries output []');
SELECT pgflow.create_flow('map_leaf');
SELECT pgflow.add_step('map_leaf', 'list', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('map_leaf', 'each', ARRAY['list'], step_type => 'map');
SELECT results_eq($$SELECT status, output FROM pgflow.start_flow('map_leaf', '{}')$$,
                  $$VALUES ('completed'::text, '{"each": []}'::jsonb)$$,
                  'a map leaf emptied by a skip completes the run with output []');

-- Several parents: remaining_deps drops by the number of parents skipped together.
SELECT pgflow.create_flow('multi');
SELECT pgflow.add_step('multi', 'p1', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('multi', 'p2', required_input_pattern => '{"go": true}');
SELECT pgflow.add_step('multi', 'p3');
SELECT pgflow.add_step('multi', 'child', ARRAY['p1', 'p2', 'p3']);
SELECT pgflow.add_step('multi', 'both', ARRAY['p1', 'p2']);
SELECT pgflow_tests.ensure_worker('multi');
SELECT set_config('t.run', pg_temp.start('multi', '{}')::text, false);
SELECT results_eq($$SELECT step_slug, status, remaining_deps FROM pgflow.step_states
                    WHERE run_id = current_setting('t.run')::uuid AND step_slug IN ('child', 'both') ORDER BY step_slug$$,
                  $$VALUES ('both'::text, 'started'::text, 0), ('child', 'created', 1)$$,
                  'multi_parent_skip_decrements_remaining_deps: by the count of skipped parents');
SELECT is((SELECT input FROM pgflow_tests.read_and_start('multi', 30, 10) WHERE step_slug = 'both'), '{"run": {}}'::jsonb,
          'all dependencies skipped: the input has only "run"');
SELECT is(pg_temp.finish(current_setting('t.run')::uuid, 'p3', '{"v": 3}'), 'completed', 'the remaining parent completes');
SELECT is((pg_temp.states(current_setting('t.run')::uuid))[4], 'child:started', 'multi_parent_skip_then_complete: the child starts');
SELECT is((SELECT input FROM pgflow_tests.read_and_start('multi', 30, 10) WHERE step_slug = 'child'), '{"run": {}, "p3": {"v": 3}}'::jsonb,
          'skipped_deps_excluded_from_input: only the completed dependency has a key');

-- ifNot {dep: {}}: runs only when dep was skipped (a completed object output contains {}).
SELECT pgflow.create_flow('fallback');
SELECT pgflow.add_step('fallback', 'primary', required_input_pattern => '{"use_primary": true}');
SELECT pgflow.add_step('fallback', 'backup', ARRAY['primary'], forbidden_input_pattern => '{"primary": {}}');
SELECT pgflow_tests.ensure_worker('fallback');
SELECT set_config('t.run', pg_temp.start('fallback', '{}')::text, false);
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['primary:skipped:condition_unmet', 'backup:started'],
          'ifnot_empty_object_absent_dep: the fallback runs when its dependency was skipped');
SELECT set_config('t.run', pg_temp.start('fallback', '{"use_primary": true}')::text, false);
SELECT pg_temp.finish(current_setting('t.run')::uuid, 'primary', '{"done": true}');
SELECT is(pg_temp.states(current_setting('t.run')::uuid), ARRAY['primary:completed', 'backup:skipped:condition_unmet'],
          'and is skipped when the dependency completed with an object');

-- A dependent fail-mode condition fails the run: the other active tasks are cancelled and every
-- message of the run is archived.
SELECT pgflow.create_flow('dep_fail');
SELECT pgflow.add_step('dep_fail', 'check');
SELECT pgflow.add_step('dep_fail', 'slow');
SELECT pgflow.add_step('dep_fail', 'act', ARRAY['check'], required_input_pattern => '{"check": {"valid": true}}', when_unmet => 'fail');
SELECT pgflow_tests.ensure_worker('dep_fail');
SELECT set_config('t.run', pg_temp.start('dep_fail', '{}')::text, false);
SELECT count(*) FROM pgflow_tests.read_and_start('dep_fail', 30, 10);
SELECT results_eq($$SELECT status, output FROM pgflow.complete_task(current_setting('t.run')::uuid, 'check', 0, '{"valid": false}')$$,
                  $$VALUES ('completed'::text, '{"valid": false}'::jsonb)$$,
                  'complete_task returns the completed task row although the run failed');
SELECT results_eq($$SELECT step_slug, status FROM pgflow.step_tasks WHERE run_id = current_setting('t.run')::uuid ORDER BY step_slug$$,
                  $$VALUES ('check'::text, 'completed'::text), ('slow', 'cancelled')$$,
                  'dependent_unmet_fail_archives_active_messages: the other active task is cancelled');
SELECT is((SELECT count(*) FROM pgflow_tests.queued_messages('dep_fail')), 0::bigint, 'and no message of the run is left in the queue');
SELECT results_eq($$SELECT r.status, ss.status, ss.error_message FROM pgflow.runs AS r
                    JOIN pgflow.step_states AS ss ON ss.run_id = r.run_id AND ss.step_slug = 'act'
                    WHERE r.run_id = current_setting('t.run')::uuid$$,
                  $$VALUES ('failed'::text, 'failed'::text, 'Condition not met'::text)$$, 'the run and the step failed');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:' || current_setting('t.run')),
          ARRAY['run:started', 'step:check:started', 'step:slow:started', 'step:check:completed', 'step:act:failed', 'run:failed'],
          'events: step:act:failed then run:failed, nothing started');

-- Safety limit: a chain of 49 steps skipped one after another resolves; 50 raise.
CREATE FUNCTION pg_temp.skip_chain(slug text, len int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgflow.create_flow(slug);
  PERFORM pgflow.add_step(slug, 's1', required_input_pattern => '{"go": true}');
  FOR i IN 2 .. len LOOP
    PERFORM pgflow.add_step(slug, 's' || i, ARRAY['s' || (i - 1)], required_input_pattern => '{"go": true}');
  END LOOP;
END;
$$;
SELECT pg_temp.skip_chain('chain49', 49);
SELECT pg_temp.skip_chain('chain50', 50);
SELECT results_eq($$SELECT status, remaining_steps FROM pgflow.start_flow('chain49', '{}')$$,
                  $$VALUES ('completed'::text, 0)$$, 'a chain of 49 plain skips converges');
SELECT throws_ok($$SELECT pgflow.start_flow('chain50', '{}')$$, 'P0001',
                 'cascade_resolve_conditions exceeded safety limit of 50 iterations', 'a chain of 50 hits the safety limit');
