-- add_step's condition parameters (pgflow 0.14): patterns and modes are stored verbatim, the
-- defaults keep 0.8.1's calls working, and bad values are refused by the steps table's CHECKs
-- with PostgreSQL's own messages.
SELECT plan(14);

SELECT pgflow.create_flow('params');

SELECT results_eq(
  $$SELECT required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted
    FROM pgflow.add_step('params', 'full', required_input_pattern => '{"user": {"plan": "pro"}}',
                         when_unmet => 'skip-cascade', when_exhausted => 'skip')$$,
  $$VALUES ('{"user": {"plan": "pro"}}'::jsonb, NULL::jsonb, 'skip-cascade'::text, 'skip'::text)$$,
  'condition_parameters: if pattern, when_unmet and when_exhausted are stored');
SELECT results_eq(
  $$SELECT required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted
    FROM pgflow.add_step('params', 'negated', forbidden_input_pattern => '{"blocked": true}', when_unmet => 'fail')$$,
  $$VALUES (NULL::jsonb, '{"blocked": true}'::jsonb, 'fail'::text, 'fail'::text)$$,
  'condition_not_pattern: the ifNot pattern is stored');
SELECT results_eq(
  $$SELECT required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted
    FROM pgflow.add_step('params', 'both', ARRAY['full'], 2, 1, 30, 0, 'single', '{"full": {}}', '{"full": {"x": 1}}',
                         'skip', 'skip-cascade')$$,
  $$VALUES ('{"full": {}}'::jsonb, '{"full": {"x": 1}}'::jsonb, 'skip'::text, 'skip-cascade'::text)$$,
  'all twelve parameters positionally');
SELECT results_eq(
  $$SELECT required_input_pattern, forbidden_input_pattern, when_unmet, when_exhausted, opt_max_attempts, step_type
    FROM pgflow.add_step('params', 'plain', ARRAY['full'], 4, NULL, NULL, NULL, 'map')$$,
  $$VALUES (NULL::jsonb, NULL::jsonb, 'skip'::text, 'fail'::text, 4, 'map'::text)$$,
  'a pgflow 0.8.1 positional call gets no patterns, when_unmet skip and when_exhausted fail');
SELECT results_eq(
  $$SELECT when_unmet, required_input_pattern FROM pgflow.add_step('params', 'inert', when_unmet => 'fail')$$,
  $$VALUES ('fail'::text, NULL::jsonb)$$,
  'when_unmet without a pattern is stored (and inert)');

SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad1', when_unmet => 'ignore')$$, '23514',
                 'new row for relation "steps" violates check constraint "when_unmet_is_valid"',
                 'condition_invalid_values: when_unmet outside fail/skip/skip-cascade');
SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad2', when_exhausted => 'retry')$$, '23514',
                 'new row for relation "steps" violates check constraint "when_exhausted_is_valid"',
                 'condition_invalid_values: when_exhausted outside fail/skip/skip-cascade');
SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad3', when_unmet => NULL)$$, '23502', NULL,
                 'condition_invalid_values: when_unmet must not be NULL');
SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad4', required_input_pattern => '[1, 2]')$$, '23514',
                 'new row for relation "steps" violates check constraint "required_input_pattern_is_object"',
                 'condition_pattern_invalid_types: an array if pattern');
SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad5', required_input_pattern => '"text"')$$, '23514',
                 'new row for relation "steps" violates check constraint "required_input_pattern_is_object"',
                 'condition_pattern_invalid_types: a string if pattern');
SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad6', forbidden_input_pattern => '[]')$$, '23514',
                 'new row for relation "steps" violates check constraint "forbidden_input_pattern_is_object"',
                 'condition_pattern_invalid_types: an array ifNot pattern');
SELECT throws_ok($$SELECT pgflow.add_step('params', 'bad7', forbidden_input_pattern => '42')$$, '23514',
                 'new row for relation "steps" violates check constraint "forbidden_input_pattern_is_object"',
                 'condition_pattern_invalid_types: a number ifNot pattern');
SELECT is((SELECT count(*) FROM pgflow.steps WHERE flow_slug = 'params' AND step_slug LIKE 'bad%'), 0::bigint,
          'no refused step was stored');

-- A step whose when_unmet has no pattern to test runs like any other.
SELECT pgflow.create_flow('inert_mode');
SELECT pgflow.add_step('inert_mode', 'only', when_unmet => 'fail');
SELECT pgflow.start_flow('inert_mode', '{}');
SELECT results_eq(
  $$SELECT r.status, ss.status FROM pgflow.runs AS r JOIN pgflow.step_states AS ss ON ss.run_id = r.run_id
    WHERE r.flow_slug = 'inert_mode'$$,
  $$VALUES ('started'::text, 'started'::text)$$,
  'a step with when_unmet but no pattern starts');
