-- is_valid_slug, create_flow and add_step: normal paths, idempotency and pgflow's error texts.
SELECT plan(49);

-- is_valid_slug
SELECT ok(pgflow.is_valid_slug('valid_slug'), 'is_valid_slug: letters and underscores');
SELECT ok(pgflow.is_valid_slug('_leading'), 'is_valid_slug: a leading underscore is allowed');
SELECT ok(pgflow.is_valid_slug('Run'), 'is_valid_slug: Run is allowed (the reserved word is case-sensitive)');
SELECT ok(pgflow.is_valid_slug(repeat('a', 128)), 'is_valid_slug: 128 characters');
SELECT ok(NOT pgflow.is_valid_slug(repeat('a', 129)), 'is_valid_slug: not 129 characters');
SELECT ok(NOT pgflow.is_valid_slug('run'), 'is_valid_slug: not the reserved word run');
SELECT ok(NOT pgflow.is_valid_slug(NULL), 'is_valid_slug: not NULL');
SELECT ok(NOT pgflow.is_valid_slug(''), 'is_valid_slug: not empty');
SELECT ok(NOT pgflow.is_valid_slug('1abc'), 'is_valid_slug: not starting with a digit');
SELECT ok(NOT pgflow.is_valid_slug('with-dash'), 'is_valid_slug: no dashes');
SELECT ok(NOT pgflow.is_valid_slug('with space'), 'is_valid_slug: no spaces');
SELECT ok(NOT pgflow.is_valid_slug('ünïcode'), 'is_valid_slug: ASCII only');

-- create_flow
SELECT results_eq($$SELECT flow_slug, opt_max_attempts, opt_base_delay, opt_timeout FROM pgflow.create_flow('orders')$$,
                  $$VALUES ('orders'::text, 3, 5, 60)$$, 'create_flow defaults: 3 attempts, base delay 5, timeout 60');
SELECT results_eq($$SELECT queue_name::text FROM pgmq.list_queues()$$, $$VALUES ('orders'::text)$$,
                  'create_flow creates the queue named after the flow');
SELECT results_eq($$SELECT flow_slug, opt_max_attempts, opt_base_delay, opt_timeout FROM pgflow.create_flow('orders', 9, 9, 9)$$,
                  $$VALUES ('orders'::text, 3, 5, 60)$$, 'create_flow on an existing flow returns it unchanged');
SELECT is((SELECT count(*) FROM pgflow.flows), 1::bigint, 'create_flow is idempotent');
SELECT pgmq.drop_queue('orders');
SELECT pgflow.create_flow('orders');
SELECT is((SELECT count(*) FROM pgmq.list_queues() WHERE queue_name = 'orders'), 1::bigint,
          'create_flow recreates a dropped queue');
SELECT results_eq($$SELECT opt_max_attempts, opt_base_delay, opt_timeout FROM pgflow.create_flow('custom', max_attempts => 0, base_delay => 0, timeout => 1)$$,
                  $$VALUES (0, 0, 1)$$, 'create_flow accepts zero attempts/delay and a 1 s timeout');
SELECT throws_ok($$SELECT pgflow.create_flow('bad-slug')$$, '23514',
                 'new row for relation "flows" violates check constraint "slug_is_valid"', 'create_flow rejects an invalid slug');
SELECT throws_ok($$SELECT pgflow.create_flow('run')$$, '23514',
                 'new row for relation "flows" violates check constraint "slug_is_valid"', 'create_flow rejects the reserved slug run');
SELECT throws_ok($$SELECT pgflow.create_flow('neg_attempts', max_attempts => -1)$$, '23514',
                 'new row for relation "flows" violates check constraint "opt_max_attempts_is_nonnegative"', 'create_flow rejects negative max_attempts');
SELECT throws_ok($$SELECT pgflow.create_flow('neg_delay', base_delay => -1)$$, '23514',
                 'new row for relation "flows" violates check constraint "opt_base_delay_is_nonnegative"', 'create_flow rejects negative base_delay');
SELECT throws_ok($$SELECT pgflow.create_flow('zero_timeout', timeout => 0)$$, '23514',
                 'new row for relation "flows" violates check constraint "opt_timeout_is_positive"', 'create_flow rejects timeout 0');
SELECT lives_ok(format('SELECT pgflow.create_flow(%L)', repeat('f', 47)), 'create_flow accepts a 47-character slug');
SELECT throws_ok(format('SELECT pgflow.create_flow(%L)', repeat('g', 48)), 'P0001',
                 'queue name is too long, maximum length is 48 characters', 'create_flow rejects 48 characters (pgmq limit)');

-- add_step
SELECT results_eq($$SELECT step_slug, step_type, step_index, deps_count FROM pgflow.add_step('orders', 'validate')$$,
                  $$VALUES ('validate'::text, 'single'::text, 0, 0)$$, 'add_step: first step gets index 0');
SELECT results_eq($$SELECT step_slug, step_index, deps_count, opt_max_attempts, opt_base_delay, opt_timeout, opt_start_delay
                    FROM pgflow.add_step('orders', 'charge', ARRAY['validate'], 5, 2, 30, 10)$$,
                  $$VALUES ('charge'::text, 1, 1, 5, 2, 30, 10)$$, 'add_step stores options and counts deps');
SELECT results_eq($$SELECT dep_slug, step_slug FROM pgflow.deps WHERE flow_slug = 'orders'$$,
                  $$VALUES ('validate'::text, 'charge'::text)$$, 'add_step records the edge');
SELECT results_eq($$SELECT step_slug, step_type, step_index, deps_count FROM pgflow.add_step('orders', 'items', ARRAY['charge'], step_type => 'map')$$,
                  $$VALUES ('items'::text, 'map'::text, 2, 1)$$, 'add_step creates a dependent map');
SELECT results_eq($$SELECT step_type FROM pgflow.add_step('orders', 'nulltype', step_type => NULL)$$,
                  $$VALUES ('single'::text)$$, 'add_step treats a NULL step_type as single');
SELECT results_eq($$SELECT step_index, deps_count, opt_max_attempts FROM pgflow.add_step('orders', 'charge', ARRAY['validate'], 99)$$,
                  $$VALUES (1, 1, 5)$$, 'add_step on an existing step returns it unchanged');
SELECT results_eq($$SELECT step_index, deps_count FROM pgflow.add_step('orders', 'charge', ARRAY['validate'])$$,
                  $$VALUES (1, 1)$$, 're-adding a step with its dependencies returns it unchanged');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'charge', ARRAY['validate', 'nulltype'])$$, '22023',
                 'add_step: step "charge" of flow "orders" exists with dependencies [validate]; it cannot gain more (got [validate, nulltype]): pgflow flows are immutable, register the changed flow under a new slug',
                 'a new dependency for an existing step is refused (pgflow 0.8.1 added the edge without counting it, and the step''s runs failed when it completed)');
SELECT is((SELECT array_agg(dep_slug ORDER BY dep_slug) FROM pgflow.deps WHERE step_slug = 'charge'),
          ARRAY['validate'], 'and no edge is added');
SELECT is((SELECT count(*) FROM pgflow.steps WHERE flow_slug = 'orders'), 4::bigint, 'add_step is idempotent');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'two_deps', ARRAY['validate', 'charge'], step_type => 'map')$$, 'P0001',
                 'Map step "two_deps" can have at most one dependency, but 2 were provided: validate, charge',
                 'add_step rejects a map step with two dependencies');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'twice', ARRAY['validate', 'charge', 'validate'])$$, '22023',
                 'add_step: step "twice" lists dependency "validate" more than once (deps_slugs: validate, charge, validate)',
                 'add_step rejects a dependency listed twice (pgflow 0.8.1 counted it twice and the step never started)');
SELECT is((SELECT count(*) FROM pgflow.steps WHERE flow_slug = 'orders' AND step_slug = 'twice'), 0::bigint,
          'and adds nothing');
SELECT throws_ok($$SELECT pgflow.add_step('nope', 'x')$$, '23503',
                 'insert or update on table "steps" violates foreign key constraint "steps_flow_slug_fkey"', 'add_step rejects an unknown flow');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'late', ARRAY['missing'])$$, '23503',
                 'insert or update on table "deps" violates foreign key constraint "deps_flow_slug_dep_slug_fkey"', 'add_step rejects an unknown dependency');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'selfish', ARRAY['selfish'])$$, '23514',
                 'new row for relation "deps" violates check constraint "deps_check"', 'add_step rejects a self-dependency');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'bad slug')$$, '23514',
                 'new row for relation "steps" violates check constraint "steps_step_slug_check"', 'add_step rejects an invalid step slug');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'run')$$, '23514',
                 'new row for relation "steps" violates check constraint "steps_step_slug_check"', 'add_step rejects the reserved slug run');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'weird', step_type => 'reduce')$$, '23514',
                 'new row for relation "steps" violates check constraint "steps_step_type_check"', 'add_step rejects an unknown step type');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'n1', max_attempts => -1)$$, '23514',
                 'new row for relation "steps" violates check constraint "opt_max_attempts_is_nonnegative"', 'add_step rejects negative max_attempts');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'n2', base_delay => -1)$$, '23514',
                 'new row for relation "steps" violates check constraint "opt_base_delay_is_nonnegative"', 'add_step rejects negative base_delay');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'n3', timeout => 0)$$, '23514',
                 'new row for relation "steps" violates check constraint "opt_timeout_is_positive"', 'add_step rejects timeout 0');
SELECT throws_ok($$SELECT pgflow.add_step('orders', 'n4', start_delay => -1)$$, '23514',
                 'new row for relation "steps" violates check constraint "opt_start_delay_is_nonnegative"', 'add_step rejects a negative start_delay');
SELECT is((SELECT array_agg(step_slug ORDER BY step_index) FROM pgflow.steps WHERE flow_slug = 'orders'),
          ARRAY['validate', 'charge', 'items', 'nulltype'], 'failed add_step calls leave no step behind');

SELECT * FROM finish();
