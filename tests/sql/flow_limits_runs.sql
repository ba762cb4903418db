-- Run limits (pgflow_cpp.set_flow_limits), priorities (start_flow_with_priority) and fairness:
-- runs over the limits wait ('waiting') and are admitted in order as runs finish (per key: only
-- behind their key); higher priorities are claimed first, with aging; a big map's claims leave
-- room for later runs; a retried or resumed run keeps its priority. pgflow.start_flow keeps its
-- 0.8.1 result.
SELECT plan(38);

CREATE FUNCTION pg_temp.claim(flow text, qty integer DEFAULT 10)
RETURNS TABLE (run_id uuid, step_slug text, task_index integer) LANGUAGE sql AS $$
  SELECT c.run_id, c.step_slug, c.task_index
  FROM pgflow_cpp.read_and_start_tasks(flow, 30, qty, pgflow_tests.worker_id()) AS c
  WHERE c.run_id IS NOT NULL
$$;
CREATE FUNCTION pg_temp.status(run uuid) RETURNS text LANGUAGE sql AS $$
  SELECT status FROM pgflow_cpp.run_status(run)
$$;
CREATE FUNCTION pg_temp.finish_run(run uuid) RETURNS void LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow.start_tasks((SELECT flow_slug FROM pgflow.runs WHERE run_id = run),
    ARRAY(SELECT message_id FROM pgflow.step_tasks WHERE run_id = run AND status = 'queued'), pgflow_tests.worker_id());
  SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1')
  FROM pgflow.step_tasks AS t WHERE t.run_id = run AND t.status = 'started';
$$;

SELECT pgflow.create_flow('fl');
SELECT pgflow.add_step('fl', 'a');
SELECT pgflow_tests.ensure_worker('fl');
SELECT throws_ok($$SELECT pgflow_cpp.set_flow_limits('nope', 1)$$, '22023',
                 'set_flow_limits: "nope" is not a registered flow', 'an unknown flow is an error naming it');
SELECT throws_ok($$SELECT pgflow_cpp.set_flow_limits('fl', 0)$$, '22023', NULL, 'max_concurrent_runs 0 is refused');
SELECT throws_ok($$SELECT pgflow_cpp.set_flow_limits('fl', concurrency_key => ARRAY['tenant', NULL], max_runs_per_key => 1)$$,
                 '22023', 'set_flow_limits: concurrency_key must not contain NULL (got {tenant,NULL})',
                 'a NULL path element in concurrency_key is refused (every run would key NULL)');
SELECT throws_ok($$SELECT pgflow_cpp.start_flow_with_priority('fl', '{}', NULL)$$, '22004', NULL, 'a NULL priority is refused');

-- 1. At most 2 runs at once: the third and fourth wait, in start order, without tasks.
SELECT pgflow_cpp.set_flow_limits('fl', max_concurrent_runs => 2);
SELECT pgflow.start_flow('fl', to_jsonb(i), ('00000000-0000-0000-0000-00000000f00' || i)::uuid) FROM generate_series(1, 4) AS i;
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000f00' || i)::uuid) FROM generate_series(1, 4) AS i),
          ARRAY['started', 'started', 'waiting', 'waiting'], 'limit 2: runs 3 and 4 are waiting');
SELECT is((SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000f003'), 'started',
          'a waiting run is ''started'' in pgflow.runs (0.8.1 callers see a run in progress)');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000f003'), 0::bigint,
          'a waiting run has no task');
SELECT is((SELECT array_agg(run_id ORDER BY run_id) FROM pg_temp.claim('fl')),
          ARRAY['00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-00000000f002']::uuid[],
          'only the admitted runs'' tasks are claimed');
SELECT pg_temp.finish_run('00000000-0000-0000-0000-00000000f002');
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000f00' || i)::uuid) FROM generate_series(1, 4) AS i),
          ARRAY['started', 'completed', 'started', 'waiting'], 'a run finishing admits the first waiting run');
SELECT is((SELECT array_agg(run_id) FROM pg_temp.claim('fl')), ARRAY['00000000-0000-0000-0000-00000000f003']::uuid[],
          'whose task is then claimed');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000f001');
SELECT is(pg_temp.status('00000000-0000-0000-0000-00000000f004'), 'started', 'a cancelled run frees its slot too');
SELECT pgflow_cpp.set_flow_limits('fl', max_concurrent_runs => 1);
SELECT pgflow.start_flow('fl', '5', '00000000-0000-0000-0000-00000000f005');
SELECT is(pg_temp.status('00000000-0000-0000-0000-00000000f005'), 'waiting', 'a lowered limit holds new runs back');
SELECT pgflow_cpp.set_flow_limits('fl');
SELECT is(pg_temp.status('00000000-0000-0000-0000-00000000f005'), 'started', 'removing the limits admits waiting runs at once');
SELECT is((SELECT count(*) FROM pgflow_cpp.limited_runs WHERE flow_slug = 'fl'), 0::bigint, 'and forgets the flow''s runs');

-- 2. Per key: one run per customer at a time; another customer's run is not held back.
SELECT pgflow.create_flow('fk');
SELECT pgflow.add_step('fk', 'a');
SELECT pgflow_cpp.set_flow_limits('fk', concurrency_key => '{customer}', max_runs_per_key => 1);
SELECT pgflow.start_flow('fk', jsonb_build_object('customer', c), ('00000000-0000-0000-0000-00000000fb0' || i)::uuid)
FROM unnest(ARRAY['x', 'x', 'y', 'x']) WITH ORDINALITY AS u(c, i);
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000fb0' || i)::uuid) FROM generate_series(1, 4) AS i),
          ARRAY['started', 'waiting', 'started', 'waiting'], 'one run per customer: x''s second and third wait, y runs');
SELECT pgflow_tests.run_visible_tasks('fk');
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000fb0' || i)::uuid) FROM generate_series(1, 4) AS i),
          ARRAY['completed', 'started', 'completed', 'waiting'], 'x''s first run done: its next one is admitted, in order');

-- 3. A run that fails at once (an unmet `fail` condition) when admitted frees its slot again.
SELECT pgflow.create_flow('fc');
SELECT pgflow.add_step('fc', 'a', required_input_pattern => '{"ok": true}', when_unmet => 'fail');
SELECT pgflow_cpp.set_flow_limits('fc', max_concurrent_runs => 1);
SELECT pgflow.start_flow('fc', '{"ok": true}', '00000000-0000-0000-0000-00000000fc01');
SELECT pgflow.start_flow('fc', '{"ok": false}', '00000000-0000-0000-0000-00000000fc02');
SELECT pgflow.start_flow('fc', '{"ok": true}', '00000000-0000-0000-0000-00000000fc03');
SELECT pgflow_tests.run_visible_tasks('fc');
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000fc0' || i)::uuid) FROM generate_series(1, 3) AS i),
          ARRAY['completed', 'failed', 'started'], 'an admitted run failing on its condition admits the next');

-- 4. Priorities: claimed highest first, ties in arrival order; waiting runs admitted by priority.
SELECT pgflow.create_flow('pr');
SELECT pgflow.add_step('pr', 'a');
SELECT pgflow_tests.ensure_worker('pr');
SELECT pgflow_cpp.start_flow_with_priority('pr', to_jsonb(p), p, ('00000000-0000-0000-0000-00000000ee0' || i)::uuid)
FROM unnest(ARRAY[0, 5, 1, 5, -1]) WITH ORDINALITY AS u(p, i);
SELECT is((SELECT array_agg(r.input::integer ORDER BY r.input::integer DESC) FROM pg_temp.claim('pr', 3) AS c
           JOIN pgflow.runs AS r ON r.run_id = c.run_id),
          ARRAY[5, 5, 1], 'qty 3 of 5: the priority 5 runs, then priority 1');
SELECT is((SELECT array_agg(run_id ORDER BY run_id) FROM pg_temp.claim('pr', 3)),
          ARRAY['00000000-0000-0000-0000-00000000ee01', '00000000-0000-0000-0000-00000000ee05']::uuid[],
          'then priority 0 and -1');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_priorities WHERE flow_slug = 'pr'), 4::bigint, 'priorities are kept while runs go on');
SELECT pgflow_tests.run_visible_tasks('pr');
SELECT pg_temp.finish_run(run_id) FROM pgflow.runs WHERE flow_slug = 'pr';
SELECT is((SELECT count(*) FROM pgflow_cpp.run_priorities WHERE flow_slug = 'pr'), 0::bigint, 'and forgotten when they finish');
-- Aging: +1 per 10 s waited, so a priority 0 task queued for 60 s goes before a fresh priority 5 one.
SELECT pgflow_cpp.start_flow_with_priority('pr', '"high"', 5, '00000000-0000-0000-0000-00000000ee0a');
SELECT pgflow.start_flow('pr', '"old"', '00000000-0000-0000-0000-00000000ee0b');
UPDATE pgmq.q_pr SET enqueued_at = enqueued_at - interval '60 s'
WHERE message->>'run_id' = '00000000-0000-0000-0000-00000000ee0b';
SELECT is((SELECT array_agg(run_id) FROM pg_temp.claim('pr', 1)), ARRAY['00000000-0000-0000-0000-00000000ee0b']::uuid[],
          'aging: a priority 0 task waiting 60 s goes before a new priority 5 one');
-- Waiting runs by priority.
SELECT pgflow_cpp.set_flow_limits('pr', max_concurrent_runs => 2);
SELECT pgflow_cpp.start_flow_with_priority('pr', to_jsonb(p), p, ('00000000-0000-0000-0000-00000000ee1' || i)::uuid)
FROM unnest(ARRAY[0, 0, 1, 9]) WITH ORDINALITY AS u(p, i);
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000ee1' || i)::uuid) FROM generate_series(1, 4) AS i),
          ARRAY['started', 'started', 'waiting', 'waiting'], 'limit 2 (runs a, b admitted): the next ones wait');
SELECT pg_temp.finish_run('00000000-0000-0000-0000-00000000ee11');
SELECT is(ARRAY(SELECT pg_temp.status(('00000000-0000-0000-0000-00000000ee1' || i)::uuid) FROM generate_series(3, 4) AS i),
          ARRAY['waiting', 'started'], 'the priority 9 run is admitted before the earlier priority 1 run');

-- 5. Fairness: a 40-task map started first does not hold back a run started after it.
SELECT pgflow.create_flow('fair');
SELECT pgflow.add_step('fair', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker('fair');
SELECT pgflow.start_flow('fair', (SELECT jsonb_agg(i) FROM generate_series(1, 40) AS i), '00000000-0000-0000-0000-00000000fa01');
SELECT pgflow.start_flow('fair', '[1]', '00000000-0000-0000-0000-00000000fa02');
SELECT pgflow.start_flow('fair', '[1]', '00000000-0000-0000-0000-00000000fa03');
SELECT results_eq($$SELECT run_id, count(*) FROM pg_temp.claim('fair', 10) GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('00000000-0000-0000-0000-00000000fa01'::uuid, 8::bigint),
                           ('00000000-0000-0000-0000-00000000fa02'::uuid, 1::bigint),
                           ('00000000-0000-0000-0000-00000000fa03'::uuid, 1::bigint)$$,
                  'the first claim takes the later runs'' tasks along with the map''s');
SELECT is((SELECT count(*) FROM pg_temp.claim('fair', 100)), 32::bigint, 'the map''s other tasks are still claimed');
SELECT is((SELECT count(*) FROM pgflow.step_tasks WHERE flow_slug = 'fair' AND status = 'started'), 42::bigint,
          'every task claimed once');

-- 6. A resumed run waits for a slot like a new run; admitted, its partly completed map starts with
--    only the missing tasks.
SELECT pgflow.create_flow('rl');
SELECT pgflow.add_step('rl', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker('rl');
SELECT pgflow_cpp.set_flow_limits('rl', max_concurrent_runs => 1);
SELECT pgflow.start_flow('rl', '[1, 2, 3]', '00000000-0000-0000-0000-00000000ab01');
SELECT count(*) FROM pg_temp.claim('rl');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000ab01', 'items', 0, '"one"');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000ab01');
SELECT pgflow.start_flow('rl', '[9]', '00000000-0000-0000-0000-00000000ab02');
SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-00000000ab01') AS resumed \gset
SELECT is(pg_temp.status(:'resumed'), 'waiting', 'resume_run: the resumed run waits while the limit is full');
SELECT is((SELECT array_agg(task_index || ':' || status ORDER BY task_index) FROM pgflow.step_tasks WHERE run_id = :'resumed'),
          ARRAY['0:completed'], 'a waiting resumed run has only its copied tasks');
SELECT pg_temp.finish_run('00000000-0000-0000-0000-00000000ab02');
SELECT is(pg_temp.status(:'resumed'), 'started', 'the finishing run admits the resumed run');
SELECT is((SELECT array_agg(task_index || ':' || status ORDER BY task_index) FROM pgflow.step_tasks WHERE run_id = :'resumed'),
          ARRAY['0:completed', '1:queued', '2:queued'], 'which starts its map with the missing tasks only');

-- 7. 500 waiting runs that each complete as they begin (a root map over []) are admitted in one
--    loop when the slot frees, not one trigger inside the other (which ran out of stack).
SELECT pgflow.create_flow('em');
SELECT pgflow.add_step('em', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker('em');
SELECT pgflow_cpp.set_flow_limits('em', max_concurrent_runs => 1);
SELECT pgflow.start_flow('em', '[1]', '00000000-0000-0000-0000-00000000ec01');
SELECT count(*) FROM (SELECT pgflow.start_flow('em', '[]') FROM generate_series(1, 500)) AS s;
SELECT pg_temp.finish_run('00000000-0000-0000-0000-00000000ec01');
SELECT is((SELECT count(*) FROM pgflow.runs WHERE flow_slug = 'em' AND status = 'completed'), 501::bigint,
          'every empty run waiting behind the slot completes once it frees');

-- A retried or resumed run has the priority of the run it restarts (run_control.priority keeps a
-- finished run's priority; run_priorities holds only unfinished runs').
SELECT pgflow.create_flow('prr', max_attempts => 1);
SELECT pgflow.add_step('prr', 'a');
SELECT pgflow.add_step('prr', 'empty', step_type => 'map');
SELECT pgflow_tests.ensure_worker('prr');
CREATE FUNCTION pg_temp.fail_run(run uuid) RETURNS void LANGUAGE sql AS $$
  SELECT pgflow.fail_task(c.run_id, c.step_slug, c.task_index, 'broken') FROM pg_temp.claim('prr') AS c WHERE c.run_id = run;
$$;
SELECT pgflow_cpp.start_flow_with_priority('prr', '[1]', 7, '00000000-0000-0000-0000-00000000bb01');
SELECT pg_temp.fail_run('00000000-0000-0000-0000-00000000bb01');
SELECT is((SELECT ARRAY[(SELECT priority FROM pgflow_cpp.run_control WHERE run_id = '00000000-0000-0000-0000-00000000bb01'),
                        (SELECT count(*)::integer FROM pgflow_cpp.run_priorities WHERE run_id = '00000000-0000-0000-0000-00000000bb01')]),
          ARRAY[7, 0], 'a finished run''s priority moves from run_priorities to run_control');
SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-00000000bb01') AS retried \gset
SELECT is((SELECT priority FROM pgflow_cpp.run_priorities WHERE run_id = :'retried'), 7, 'a retried run has its source''s priority');
SELECT pg_temp.fail_run(:'retried');
SELECT pgflow_cpp.resume_run(:'retried') AS resumed \gset
SELECT is((SELECT priority FROM pgflow_cpp.run_priorities WHERE run_id = :'resumed'), 7, 'so has a resumed run, down the chain');
SELECT pg_temp.finish_run(:'resumed');
SELECT is((SELECT ARRAY[priority::text, restart_kind] FROM pgflow_cpp.run_control WHERE run_id = :'resumed'),
          ARRAY['7', 'resume'], 'finished, the resumed run keeps its priority next to its lineage');
-- A retry that ends within retry_run (its map is empty, and the slot its source waited for is
-- free now) keeps its priority and its lineage.
SELECT pgflow.create_flow('pre');
SELECT pgflow.add_step('pre', 'items', step_type => 'map');
SELECT pgflow_tests.ensure_worker('pre');
SELECT pgflow_cpp.set_flow_limits('pre', max_concurrent_runs => 1);
SELECT pgflow.start_flow('pre', '[1]', '00000000-0000-0000-0000-00000000bb02');
SELECT pgflow_cpp.start_flow_with_priority('pre', '[]', 3, '00000000-0000-0000-0000-00000000bb03');
SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000bb03');
SELECT pg_temp.finish_run('00000000-0000-0000-0000-00000000bb02');
SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-00000000bb03') AS retried_empty \gset
SELECT is((SELECT ARRAY[r.status, c.priority::text, c.restart_kind] FROM pgflow.runs AS r
           JOIN pgflow_cpp.run_control AS c ON c.run_id = r.run_id WHERE r.run_id = :'retried_empty'),
          ARRAY['completed', '3', 'retry'], 'a retry that completes at once keeps its priority and lineage');
SELECT is((SELECT count(*) FROM pgflow_cpp.run_control WHERE run_id = '00000000-0000-0000-0000-00000000bb02' AND priority IS NOT NULL),
          0::bigint, 'a run of priority 0 keeps no priority');

SELECT * FROM finish();
