-- What set_step_kind refuses beyond its parameters, and malformed value shapes: a handler step of a
-- flow that has runs keeps its kind (also against a run starting in another session meanwhile); a
-- sleep step is no map; a signal or subflow step has no step limits; a signal's value shape is
-- checked whole when stored, and json_matches_shape names the path of a malformed part instead of
-- failing with a raw PostgreSQL error. What must keep working: a new flow's registration, the same
-- kind stated again (with runs too), a valid nested shape.
SELECT plan(50);

-- 1. json_matches_shape: malformed parts are errors naming their path, never a value's mismatch.
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('{"x": 1}', '{"type":"object","properties":{"x":{"type":"bogus"}}}')$$,
                 '22023', 'value shape at $.x: unknown type "bogus"', 'a nested unknown type names its path');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('{}', '{"type":"object","required":"x"}')$$,
                 '22023', 'value shape at $: "required" must be an array of property names (strings), got string',
                 '"required" that is not an array (was: cannot extract elements from a scalar)');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('{}', '{"type":"object","required":[1]}')$$,
                 '22023', 'value shape at $: "required" must be an array of property names (strings), got an array holding a number',
                 '"required" holding a number (was: $.1: required, missing)');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('{}', '{"type":"object","properties":[1]}')$$,
                 '22023', 'value shape at $: "properties" must be an object (property name: shape), got array',
                 '"properties" that is not an object (was: cannot call jsonb_each on a non-object)');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('{}', '{"type":"object","properties":{"x":1}}')$$,
                 '22023', 'value shape at $.x: expected an object, got number', 'a property''s shape that is not an object');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('null', '{"type":"string","nullable":"yes"}')$$,
                 '22023', 'value shape at $: "nullable" must be true or false, got string', '"nullable": "yes" (was: taken as true)');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('[]', '{"type":"array","items":"x"}')$$,
                 '22023', 'value shape at $[*]: expected an object, got string', '"items" that is not a shape');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('1', '{"type":5}')$$,
                 '22023', 'value shape at $: unknown type 5', 'a type that is not a name');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('1', '{"type":null}')$$,
                 '22023', 'value shape at $: unknown type null', 'a null type');
SELECT throws_ok($$SELECT pgflow_cpp.json_matches_shape('{"xs": [{"n": 1}]}',
                   '{"type":"object","properties":{"xs":{"type":"array","items":{"type":"object","properties":{"n":{"type":"int"}}}}}}')$$,
                 '22023', 'value shape at $.xs[0].n: unknown type "int"', 'deep in an array: the element''s path');
SELECT throws_ok($$SELECT pgflow_cpp.json_shape_mismatch('1', '[]', '$.y')$$,
                 '22023', 'value shape at $.y: expected an object, got array', 'json_shape_mismatch itself, at the path it is given');
SELECT is(pgflow_cpp.json_matches_shape('null', '{"type":"string","nullable":false}'), '$: expected string, got null',
          '"nullable": false does not accept null');
SELECT is(pgflow_cpp.json_matches_shape('{"a": 1, "b": [true]}',
            '{"type":"object","description":"any","properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"type":"boolean"}}},"required":["a"]}'),
          NULL, 'a valid nested shape; members a shape does not know are ignored');

-- 2. set_step_kind checks the whole shape when it stores it, parts no value reaches included.
SELECT pgflow.create_flow('ks');
SELECT pgflow.add_step('ks', 'sig');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL,
                   '{"type":"object","properties":{"x":{"type":"bogus"}}}', NULL)$$,
                 '22023', 'value shape at $.x: unknown type "bogus"', 'set_step_kind: a nested unknown type names its path');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL,
                   '{"type":"object","properties":{"xs":{"type":"array","items":{"type":"object","properties":{"n":{"type":"int"}}}}}}', NULL)$$,
                 '22023', 'value shape at $.xs[*].n: unknown type "int"', 'set_step_kind: a part of every element is named with [*]');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL, '{"type":"object","required":"x"}', NULL)$$,
                 '22023', 'value shape at $: "required" must be an array of property names (strings), got string',
                 'set_step_kind: "required" that is not an array');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL, '{"type":"object","required":["a", 1]}', NULL)$$,
                 '22023', 'value shape at $: "required" must be an array of property names (strings), got an array holding a number',
                 'set_step_kind: "required" holding a number');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL, '{"type":"object","properties":[1]}', NULL)$$,
                 '22023', 'value shape at $: "properties" must be an object (property name: shape), got array',
                 'set_step_kind: "properties" that is not an object');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL,
                   '{"type":"object","properties":{"a":{"type":"string","nullable":"yes"}}}', NULL)$$,
                 '22023', 'value shape at $.a: "nullable" must be true or false, got string', 'set_step_kind: a nested "nullable": "yes"');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', NULL,
                   '{"properties":{"a":{"type":"array","items":[]}}}', NULL)$$,
                 '22023', 'value shape at $.a[*]: expected an object, got array', 'set_step_kind: a shape without a type is checked too');
SELECT is((SELECT count(*) FROM pgflow_cpp.step_kinds WHERE flow_slug = 'ks'), 0::bigint, 'nothing was stored');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('ks', 'sig', 'signal', 3600,
  '{"type":"object","properties":{"approved":{"type":"boolean"},"by":{"type":"string"},"note":{"type":"string","nullable":true},"lines":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]},"nullable":true},"any":{}},"required":["approved","by"]}'::jsonb, NULL)$$,
                'set_step_kind: a valid nested shape (what the C++ side writes) is stored');
SELECT is((SELECT value_shape -> 'properties' -> 'lines' -> 'items' ->> 'required' FROM pgflow_cpp.step_kinds
           WHERE flow_slug = 'ks' AND step_slug = 'sig'), '["n"]', 'as given');

-- 3. A sleep step is a single step; signal and subflow steps may be maps.
SELECT pgflow.create_flow('km_child');
SELECT pgflow.add_step('km_child', 'k');
SELECT pgflow.create_flow('km');
SELECT pgflow.add_step('km', 'naps', step_type => 'map');
SELECT pgflow.add_step('km', 'votes', step_type => 'map');
SELECT pgflow.add_step('km', 'kids', step_type => 'map');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('km', 'naps', 'sleep')$$, '22023',
                 'Step "naps" of flow "km" is a map step, but a sleep step is a single step (signal and subflow steps may be maps)',
                 'a sleep map is refused');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('km', 'votes', 'signal')$$, 'a signal map is declared');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('km', 'kids', 'subflow', child_flow_slug => 'km_child')$$, 'a subflow map is declared');
SELECT is((SELECT array_agg(step_slug || ':' || kind ORDER BY step_slug) FROM pgflow_cpp.step_kinds WHERE flow_slug = 'km'),
          ARRAY['kids:subflow', 'votes:signal'], 'the sleep map left no row');

-- 4. Step limits and a signal or subflow step: refused in either order.
SELECT pgflow.create_flow('kl');
SELECT pgflow.add_step('kl', 'wait');
SELECT pgflow.add_step('kl', 'sub');
SELECT pgflow.add_step('kl', 'nap');
SELECT pgflow_cpp.set_step_limits('kl', 'wait', max_concurrency => 2);
SELECT pgflow_cpp.set_step_limits('kl', 'sub', rate_limit => 'kl_rate');
SELECT pgflow_cpp.set_step_limits('kl', 'nap', max_concurrency => 1);
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('kl', 'wait', 'signal')$$, '22023',
                 'Step "wait" of flow "kl" has step limits, but a signal step''s tasks are never claimed by a worker, so no step limit can apply',
                 'limits, then a signal: refused (as the other order is)');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('kl', 'sub', 'subflow', child_flow_slug => 'km_child')$$, '22023',
                 'Step "sub" of flow "kl" has step limits, but a subflow step''s tasks are never claimed by a worker, so no step limit can apply',
                 'limits, then a subflow: refused');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('kl', 'nap', 'sleep')$$, 'a sleep step''s tasks are claimed: its limits stay');
SELECT pgflow_cpp.set_step_limits('kl', 'wait');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('kl', 'wait', 'signal')$$, 'with the limits removed, the signal is declared');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_limits('kl', 'wait', 1)$$, '22023', NULL, 'and limits stay refused on it');

-- 5. A new flow registers; the same kind stated again passes, before and after runs; a handler
-- step of a flow with runs keeps its kind.
SELECT pgflow.create_flow('kr', max_attempts => 1);
SELECT pgflow.add_step('kr', 'a');
SELECT pgflow.add_step('kr', 'approval', ARRAY['a']);
SELECT pgflow.add_step('kr', 'b', ARRAY['approval']);
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('kr', 'approval', 'signal', 60, '{"type":"boolean"}', NULL)$$,
                'a new flow''s registration declares its signal step');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('kr', 'approval', 'signal', 60, '{"type":"boolean"}', NULL)$$,
                'the same kind stated twice');
SELECT pgflow_tests.ensure_worker('kr');
SELECT pgflow.start_flow('kr', '{}', '00000000-0000-0000-0000-00000000c001');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('kr', 'a', 'signal')$$, '22023',
                 'Step "a" of flow "kr" is registered as handler but is now declared as signal: the flow already has runs, so the step''s kind cannot change',
                 'a handler step of a flow with runs cannot become a signal');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('kr', 'b', 'subflow', child_flow_slug => 'km_child')$$, '22023',
                 'Step "b" of flow "kr" is registered as handler but is now declared as subflow of flow "km_child": the flow already has runs, so the step''s kind cannot change',
                 'nor a subflow (a step the runs did not reach yet)');
SELECT is((SELECT count(*) FROM pgflow_cpp.step_kinds WHERE flow_slug = 'kr' AND step_slug IN ('a', 'b')), 0::bigint,
          'they stay handler steps');
SELECT is((SELECT count(*) FROM pgflow_tests.read_and_start('kr', 30, 10) WHERE step_slug = 'a'), 1::bigint,
          'a worker still claims a/0, a handler''s task');
SELECT lives_ok($$SELECT pgflow_cpp.set_step_kind('kr', 'approval', 'signal', 120, '{"type":"boolean"}', NULL)$$,
                'with runs, the same kind stated again (another timeout: ensure_registered) passes');
SELECT is((SELECT signal_timeout FROM pgflow_cpp.step_kinds WHERE flow_slug = 'kr' AND step_slug = 'approval'), 120,
          'and the timeout changed in place');
SELECT throws_ok($$SELECT pgflow_cpp.set_step_kind('kr', 'approval', 'sleep')$$, '22023',
                 'Step "approval" of flow "kr" is registered as signal but is now declared as sleep', 'another kind is still refused as before');

-- 6. A run starting in another session while the kind is declared: the declaration waits for it
-- and then refuses (a run started with a handler step must keep one).
SELECT pgflow.create_flow('kc');
SELECT pgflow.add_step('kc', 'a');
SELECT dblink_connect('s2', pgflow_tests.dblink_connstr());
SELECT dblink_connect('s3', pgflow_tests.dblink_connstr());
SELECT dblink_exec('s2', 'BEGIN');
SELECT is((SELECT n FROM dblink('s2', $$SELECT count(*) FROM pgflow.start_flow('kc', '{}')$$) AS t(n bigint)), 1::bigint,
          'session 2 starts a run (open)');
SELECT dblink_send_query('s3', $$SELECT pgflow_tests.try_sql('SELECT pgflow_cpp.set_step_kind(''kc'', ''a'', ''signal'')')$$);
SELECT ok(pgflow_tests.waits_for_lock('%set_step_kind%'), 'session 3''s set_step_kind waits for the run''s transaction');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('s3') AS t(r text)),
          '22023: Step "a" of flow "kc" is registered as handler but is now declared as signal: the flow already has runs, so the step''s kind cannot change',
          'then refuses: the run exists');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(r text)), 0::bigint, 'session 3 is done');
SELECT is((SELECT count(*) FROM pgflow_cpp.step_kinds WHERE flow_slug = 'kc'), 0::bigint, 'a stays a handler step');

-- 7. The other way round: the kind is declared (open) and a run starts in another session. The
-- run waits for the declaration and then treats the step as a signal step: its task waits for a
-- signal, with no queue message (start_flow reads the kinds after the run's insert).
SELECT pgflow.create_flow('kd');
SELECT pgflow.add_step('kd', 'a');
SELECT dblink_exec('s2', 'BEGIN');
SELECT * FROM dblink('s2', $$SELECT 1 FROM pgflow_cpp.set_step_kind('kd', 'a', 'signal')$$) AS t(n int);
SELECT dblink_send_query('s3', $$SELECT pgflow_tests.try_sql('SELECT pgflow.start_flow(''kd'', ''{}'')')$$);
SELECT ok(pgflow_tests.waits_for_lock('%start_flow%'), 'session 3''s start_flow waits for the declaration''s transaction');
SELECT dblink_exec('s2', 'COMMIT');
SELECT is((SELECT r FROM dblink_get_result('s3') AS t(r text)), 'ok', 'then starts the run');
SELECT is((SELECT count(*) FROM dblink_get_result('s3') AS t(r text)), 0::bigint, 'session 3 is done');
SELECT results_eq($$SELECT t.status, t.message_id IS NULL, w.kind FROM pgflow.step_tasks AS t
                    JOIN pgflow_cpp.waits AS w ON w.run_id = t.run_id AND w.step_slug = t.step_slug
                    WHERE t.flow_slug = 'kd'$$,
                  $$VALUES ('queued', true, 'signal')$$,
                  'the run''s task waits for a signal, without a queue message');
SELECT dblink_disconnect('s2');
SELECT dblink_disconnect('s3');

SELECT * FROM finish();
