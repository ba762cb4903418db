-- Step limits (pgflow_cpp.set_step_limits, set_rate_limit): claims start at most max_concurrency
-- tasks of a step at once, at most max_per_key per key value, at most max_starts per window;
-- tasks over a limit stay queued and are claimed later; limits change on re-registration; two
-- sessions claiming at once cannot both take the last slot.
SELECT plan(56);

CREATE FUNCTION pg_temp.claim(flow text, qty integer DEFAULT 10)
RETURNS TABLE (run_id uuid, step_slug text, task_index integer) LANGUAGE sql AS $$
  SELECT c.run_id, c.step_slug, c.task_index
  FROM pgflow_cpp.read_and_start_tasks(flow, 30, qty, pgflow_tests.worker_id()) AS c
  WHERE c.run_id IS NOT NULL
$$;
CREATE FUNCTION pg_temp.started(flow text, step text)
RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.step_tasks AS t WHERE t.flow_slug = flow AND t.step_slug = step AND t.status = 'started'
$$;
-- Queued tasks of a flow (of one run, when given) whose messages are visible now: refused tasks
-- shown again when a slot was freed.
CREATE FUNCTION pg_temp.shown_again(flow text, run uuid DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.step_tasks AS t
  WHERE t.flow_slug = flow AND (run IS NULL OR t.run_id = run) AND t.status = 'queued'
    AND pgflow_tests.visible_in(flow, t.message_id) <= 0
$$;
-- Map step m of flow limited to 2 tasks at once; runs first ([1, 2]) and second ([3]) started and
-- claimed: first's two tasks hold the slots, second's task is refused.
CREATE FUNCTION pg_temp.fill_map_slots(flow text, first uuid, second uuid)
RETURNS void LANGUAGE sql AS $$
  SELECT pgflow_tests.ensure_worker(flow);
  SELECT pgflow_cpp.set_step_limits(flow, 'm', max_concurrency => 2);
  SELECT pgflow.start_flow(flow, '[1, 2]', first);
  SELECT pgflow.start_flow(flow, '[3]', second);
  SELECT count(*) FROM pg_temp.claim(flow);
$$;

-- Bad input.
SELECT pgflow.create_flow('sl');
SELECT pgflow.add_step('sl', 'a');
SELECT pgflow.add_step('sl', 'b', ARRAY['a']);
SELECT pgflow_tests.ensure_worker('sl');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl', 'nope', 1)$$, '22023',
                 'set_step_limits: flow "sl" has no step "nope"', 'an unknown step is an error naming it');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl', 'a', 0)$$, '22023', NULL, 'max_concurrency 0 is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl', 'a', concurrency_key => '{customer}')$$, '22023',
                 'set_step_limits: concurrency_key (a non-empty path into the run input) and max_per_key go together',
                 'a key without max_per_key is refused');
SELECT pgflow.create_flow('sl_wait');
SELECT pgflow.add_step('sl_wait', 'approval');
SELECT pgflow_cpp.set_step_kind('sl_wait', 'approval', 'signal');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl_wait', 'approval', 1)$$, '22023',
                 'set_step_limits: step "approval" of flow "sl_wait" is a signal step: no worker claims its tasks, so no step limit can apply',
                 'a signal (or subflow) step cannot be limited: no claim would apply it');
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 0, 1)$$, '22023', NULL, 'a rate limit of 0 starts is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 1, 0)$$, '22023', NULL, 'a window of 0 s is refused');
-- per_seconds outside 0.000001 .. 3155760000 (NaN passes > 0): every claim of a step naming it
-- would fail (interval out of range) and its tasks stay queued.
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 1, 'NaN')$$, '22023',
                 'set_rate_limit: "r" needs max_starts >= 1 and per_seconds from 0.000001 to 3155760000 (100 years) (got 1 per NaN s)',
                 'a window of NaN s is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 1, 'Infinity')$$, '22023',
                 'set_rate_limit: "r" needs max_starts >= 1 and per_seconds from 0.000001 to 3155760000 (100 years) (got 1 per Infinity s)',
                 'an infinite window is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 1, '-Infinity')$$, '22023',
                 'set_rate_limit: "r" needs max_starts >= 1 and per_seconds from 0.000001 to 3155760000 (100 years) (got 1 per -Infinity s)',
                 'a window of -Infinity s is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 1, 1e300)$$, '22023', NULL, 'a window longer than 100 years is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_rate_limit('r', 1, 0.0000001)$$, '22023',
                 'set_rate_limit: "r" needs max_starts >= 1 and per_seconds from 0.000001 to 3155760000 (100 years) (got 1 per 0.0000001 s)',
                 'a window shorter than a microsecond is refused');
SELECT is((SELECT count(*) FROM pgflow_cpp.rate_limits), 0::bigint, 'nothing refused was stored');
SELECT throws_ok($$INSERT INTO pgflow_cpp.rate_limits (name, max_starts, per_seconds) VALUES ('r', 1, 'NaN')$$, '23514',
                 'new row for relation "rate_limits" violates check constraint "rate_limits_per_seconds_check"',
                 'the table refuses a NaN window too');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl', 'a', rate_limit => '')$$, '22023',
                 'set_step_limits: rate_limit must be a non-empty name (one given to set_rate_limit) or NULL',
                 'an empty rate limit name is refused (set_rate_limit refuses it)');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl', 'a', concurrency_key => ARRAY[NULL]::text[], max_per_key => 1)$$, '22023',
                 'set_step_limits: concurrency_key must not contain NULL (got {NULL})',
                 'a NULL path element in concurrency_key is refused (every run would key NULL)');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('sl', 'a', concurrency_key => ARRAY['customer', NULL], max_per_key => 1)$$, '22023',
                 'set_step_limits: concurrency_key must not contain NULL (got {customer,NULL})', 'also after other elements');
SELECT is((SELECT count(*) FROM pgflow_cpp.step_limits WHERE flow_slug = 'sl'), 0::bigint, 'and no step limit was stored');

-- 1. max_concurrency 2: of 5 queued tasks, a claim starts 2; the rest stay queued, shown again soon.
SELECT pgflow_cpp.set_step_limits('sl', 'a', max_concurrency => 2);
SELECT pgflow.start_flow('sl', '{}') FROM generate_series(1, 5);
SELECT is((SELECT count(*) FROM pg_temp.claim('sl')), 2::bigint, 'max_concurrency 2: a claim of 10 starts 2 tasks');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE flow_slug = 'sl' AND status = 'queued'), 3::bigint,
          'the other 3 stay queued');
SELECT ok((SELECT bool_and(pgflow_tests.visible_in('sl', t.message_id) BETWEEN 0.2 AND 5.1)
           FROM pgflow.step_tasks AS t WHERE t.flow_slug = 'sl' AND t.status = 'queued'),
          'their messages are shown again within a few seconds (not archived)');
SELECT pgflow_tests.make_visible('sl');
SELECT is((SELECT count(*) FROM pg_temp.claim('sl')), 0::bigint, 'at the limit, a further claim starts nothing');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1')
FROM pgflow.step_tasks AS t WHERE t.flow_slug = 'sl' AND t.step_slug = 'a' AND t.status = 'started' LIMIT 1;
SELECT is((SELECT count(*) FROM pgflow.step_tasks AS t
           WHERE t.flow_slug = 'sl' AND t.step_slug = 'a' AND t.status = 'queued'
             AND pgflow_tests.visible_in('sl', t.message_id) <= 0), 1::bigint,
          'a completion frees its slot at once and shows one task refused for it again (not after its delay)');
SELECT pgflow_tests.make_visible('sl');
SELECT results_eq($$SELECT step_slug, count(*) FROM pg_temp.claim('sl') GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('a'::text, 1::bigint), ('b'::text, 1::bigint)$$,
                  'a completion frees one slot of a; the unlimited step b is claimed as usual');
SELECT is(pg_temp.started('sl', 'a'), 2::bigint, 'never more than 2 tasks of a started');

-- 2. A failed attempt (queued for a retry) frees its slot too, at once.
CREATE TEMP TABLE failed_a AS
SELECT t.run_id, t.task_index, t.message_id FROM pgflow.step_tasks AS t
WHERE t.flow_slug = 'sl' AND t.step_slug = 'a' AND t.status = 'started' LIMIT 1;
SELECT pgflow.fail_task(f.run_id, 'a', f.task_index, 'boom') FROM failed_a AS f;
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots AS s JOIN failed_a AS f USING (run_id, task_index)), 0::bigint,
          'a failed attempt''s slot goes with the failure');
SELECT is((SELECT count(*) FROM pgflow.step_tasks AS t
           WHERE t.flow_slug = 'sl' AND t.step_slug = 'a' AND t.status = 'queued'
             AND t.message_id <> (SELECT f.message_id FROM failed_a AS f)
             AND pgflow_tests.visible_in('sl', t.message_id) <= 0), 1::bigint,
          'and one task refused for it is shown again at once (not after its delay)');
SELECT pgflow_tests.make_visible('sl');
SELECT is((SELECT count(*) FROM pg_temp.claim('sl')), 1::bigint, 'a failed attempt frees its slot');
SELECT is(pg_temp.started('sl', 'a'), 2::bigint, 'still 2 started');

-- 3. Re-registration raises the limit, then removes it.
SELECT pgflow_cpp.set_step_limits('sl', 'a', max_concurrency => 3);
SELECT pgflow_tests.make_visible('sl');
SELECT is((SELECT count(*) FROM pg_temp.claim('sl')), 1::bigint, 'limit raised to 3: one more task starts');
SELECT pgflow_cpp.set_step_limits('sl', 'a');
SELECT is((SELECT count(*) FROM pgflow_cpp.step_limits WHERE flow_slug = 'sl'), 0::bigint, 'all NULL removes the limits');
SELECT pgflow_tests.make_visible('sl');
SELECT is((SELECT count(*) FROM pg_temp.claim('sl')), 1::bigint, 'without limits the last queued task starts');

-- 4. Per key: at most 1 started task per customer; the NULL key (no such path) is a value of its own.
SELECT pgflow.create_flow('pk');
SELECT pgflow.add_step('pk', 'charge');
SELECT pgflow_cpp.set_step_limits('pk', 'charge', concurrency_key => '{customer,id}', max_per_key => 1);
SELECT pgflow.start_flow('pk', jsonb_build_object('customer', jsonb_build_object('id', c)))
FROM unnest(ARRAY['x', 'x', 'y', 'x', 'y']) AS c;
SELECT pgflow.start_flow('pk', '{}') FROM generate_series(1, 2);
SELECT is((SELECT array_agg(r.input #>> '{customer,id}' ORDER BY r.input #>> '{customer,id}')
           FROM pg_temp.claim('pk') AS c JOIN pgflow.runs AS r ON r.run_id = c.run_id),
          ARRAY['x', 'y', NULL], 'max_per_key 1: one task per customer (and one without a customer)');
SELECT pgflow_tests.make_visible('pk');
SELECT is((SELECT count(*) FROM pg_temp.claim('pk')), 0::bigint, 'every key at its limit: nothing more starts');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1')
FROM pgflow.step_tasks AS t JOIN pgflow.runs AS r ON r.run_id = t.run_id
WHERE t.flow_slug = 'pk' AND t.status = 'started' AND r.input #>> '{customer,id}' = 'x';
SELECT pgflow_tests.make_visible('pk');
SELECT is((SELECT array_agg(r.input #>> '{customer,id}') FROM pg_temp.claim('pk') AS c JOIN pgflow.runs AS r ON r.run_id = c.run_id),
          ARRAY['x'], 'x''s slot freed: the next x task starts, y stays at its limit');

-- 5. Two sessions at once, limit 1: the second claim waits for the first's lock, then counts the
--    first's started task and starts nothing.
SELECT pgflow.create_flow('race');
SELECT pgflow.add_step('race', 'a');
SELECT pgflow_cpp.set_step_limits('race', 'a', max_concurrency => 1);
SELECT pgflow_tests.ensure_worker('race');
SELECT pgflow.start_flow('race', '{}') FROM generate_series(1, 4);
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());
SELECT dblink_exec('s2', 'BEGIN');
SELECT is((SELECT n FROM dblink('s2', format($$SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 2, %L) WHERE run_id IS NOT NULL$$,
                                           pgflow_tests.worker_id())) AS t(n bigint)), 1::bigint,
          'session 2 (open) starts 1 task');
SELECT dblink_send_query('s3', format($$SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 2, %L) WHERE run_id IS NOT NULL$$,
                                      pgflow_tests.worker_id()));
SELECT ok(pgflow_tests.session_waits('s3'), 'session 3''s claim waits for session 2''s');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT n FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'then starts nothing: the limit holds');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(n bigint)), 0::bigint, 'session 3 is done');
SELECT is(pg_temp.started('race', 'a'), 1::bigint, 'one task started in all');
-- Both claim at once with no task started: together they start exactly the limit.
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1')
FROM pgflow.step_tasks AS t WHERE t.flow_slug = 'race' AND t.status = 'started';
SELECT pgflow_cpp.set_step_limits('race', 'a', max_concurrency => 2);
SELECT pgflow_tests.make_visible('race');
SELECT dblink_send_query('s2', format($$SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 2, %L) WHERE run_id IS NOT NULL$$,
                                      pgflow_tests.worker_id()));
SELECT dblink_send_query('s3', format($$SELECT count(*) FROM pgflow_cpp.read_and_start_tasks('race', 30, 2, %L) WHERE run_id IS NOT NULL$$,
                                      pgflow_tests.worker_id()));
SELECT is((SELECT n FROM dblink_get_result('s2') AS t(n bigint)) + (SELECT n FROM dblink_get_result('s3') AS t(n bigint)),
          2::bigint, 'two sessions claiming at once start 2 tasks together (limit 2)');
SELECT is(pg_temp.started('race', 'a'), 2::bigint, 'and 2 are started');

-- 6. A rate limit of 2 starts per 2 s, shared by two steps of two flows: delayed, never failed.
SELECT pgflow_cpp.set_rate_limit('partner', 2, 2);
SELECT pgflow.create_flow('rl');
SELECT pgflow.add_step('rl', 'call');
SELECT pgflow.create_flow('rl2');
SELECT pgflow.add_step('rl2', 'call');
SELECT pgflow_cpp.set_step_limits('rl', 'call', rate_limit => 'partner');
SELECT pgflow_cpp.set_step_limits('rl2', 'call', rate_limit => 'partner');
SELECT pgflow_tests.ensure_worker('rl');
SELECT pgflow.start_flow('rl', '{}') FROM generate_series(1, 3);
SELECT pgflow.start_flow('rl2', '{}') FROM generate_series(1, 2);
SELECT is((SELECT count(*) FROM pg_temp.claim('rl')), 2::bigint, 'rate 2 per 2 s: 2 of 3 tasks start');
SELECT is((SELECT count(*) FROM pg_temp.claim('rl2')), 0::bigint, 'the other flow sharing the limit starts none');
SELECT ok((SELECT bool_and(pgflow_tests.visible_in(t.flow_slug, t.message_id) BETWEEN 1.0 AND 2.1)
           FROM pgflow.step_tasks AS t WHERE t.flow_slug IN ('rl', 'rl2') AND t.status = 'queued'),
          'the refused tasks become visible when the window has room (about 2 s on)');
SELECT pg_sleep(2.1);
SELECT is((SELECT count(*) FROM pg_temp.claim('rl')) + (SELECT count(*) FROM pg_temp.claim('rl2')), 2::bigint,
          'after the window: 2 more start');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE flow_slug IN ('rl', 'rl2') AND status = 'failed'), 0::bigint,
          'no task failed');
SELECT ok((SELECT count(*) <= 2 FROM pgflow_cpp.rate_limit_starts WHERE name = 'partner'
           AND started_at > clock_timestamp() - interval '2 s'), 'never more than 2 starts logged in the last 2 s');
-- The widest window set_rate_limit takes (100 years) still claims: one start, the next delayed.
SELECT lives_ok($$SELECT pgflow_cpp.set_rate_limit('century', 1, 3155760000)$$, 'a window of 100 years is taken');
SELECT pgflow.create_flow('rlc');
SELECT pgflow.add_step('rlc', 'call');
SELECT pgflow_cpp.set_step_limits('rlc', 'call', rate_limit => 'century');
SELECT pgflow.start_flow('rlc', '{}') FROM generate_series(1, 2);
SELECT is((SELECT count(*) FROM pg_temp.claim('rlc')), 1::bigint, 'rate 1 per 100 years: 1 of 2 tasks starts, the claim works');

-- Tasks cancelled with their run, or skipped with their step, free their slots at once too.
SELECT pgflow.create_flow('slc', max_attempts => 1);
SELECT pgflow.add_step('slc', 'a');
SELECT pgflow_tests.ensure_worker('slc');
SELECT pgflow_cpp.set_step_limits('slc', 'a', max_concurrency => 1);
SELECT pgflow.start_flow('slc', '{}', '00000000-0000-0000-0000-0000000051c1');
SELECT pgflow.start_flow('slc', '{}', '00000000-0000-0000-0000-0000000051c2');
SELECT count(*) FROM pg_temp.claim('slc');
SELECT pgflow_cpp.cancel_run(r) FROM unnest(ARRAY['00000000-0000-0000-0000-0000000051c1'::uuid,
                                                  '00000000-0000-0000-0000-0000000051c2'::uuid]) AS r
WHERE EXISTS (SELECT 1 FROM pgflow.step_tasks AS t WHERE t.run_id = r AND t.status = 'started');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE flow_slug = 'slc'), 0::bigint,
          'a cancelled run''s started task frees its slot');
SELECT is(pg_temp.shown_again('slc'), 1::bigint, 'and the other run''s refused task is shown again at once');
SELECT pgflow.create_flow('sls', max_attempts => 1);
SELECT pgflow.add_step('sls', 'm', step_type => 'map', when_exhausted => 'skip');
SELECT pg_temp.fill_map_slots('sls', '00000000-0000-0000-0000-0000000051d1', '00000000-0000-0000-0000-0000000051d2');
SELECT pgflow.fail_task('00000000-0000-0000-0000-0000000051d1', 'm', 0, 'boom');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE run_id = '00000000-0000-0000-0000-0000000051d1'), 0::bigint,
          'a step skipped when its task was exhausted frees its siblings'' slots');
SELECT is(pg_temp.shown_again('sls', '00000000-0000-0000-0000-0000000051d2'), 1::bigint,
          'and another run''s refused task is shown again at once');
-- A started step skipped with its dependents (_cascade_force_skip_steps: skip-cascade, or
-- pgflow 0.14's internal call) frees the slots its tasks held, and another run's refused task is
-- shown again at once.
SELECT pgflow.create_flow('slf');
SELECT pgflow.add_step('slf', 'm', step_type => 'map');
SELECT pgflow.add_step('slf', 'after', ARRAY['m']);
SELECT pg_temp.fill_map_slots('slf', '00000000-0000-0000-0000-0000000051f1', '00000000-0000-0000-0000-0000000051f2');
SELECT is(pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-0000000051f1', 'm', 'condition_unmet'), 2,
          'the started map and its dependent are skipped');
SELECT is((SELECT count(*) FROM pgflow_cpp.task_slots WHERE run_id = '00000000-0000-0000-0000-0000000051f1'), 0::bigint,
          'a step skipped with its dependents frees its tasks'' slots');
SELECT is(pg_temp.shown_again('slf', '00000000-0000-0000-0000-0000000051f2'), 1::bigint,
          'and another run''s refused task is shown again at once');

SELECT * FROM finish();
