-- The installed schema matches pgflow 0.8.1 (tables, column order, constraint names, type,
-- function signatures) and the checks of pgflow's set-up guide pass, including its three
-- monitoring queries after a few runs.
SELECT plan(43);

-- Set-up guide: 7 tables, at least 14 functions.
SELECT is((SELECT count(*) FROM pg_tables WHERE schemaname = 'pgflow'), 7::bigint,
          'setup guide: schema pgflow has exactly 7 tables');
SELECT cmp_ok((SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON p.pronamespace = n.oid
               WHERE n.nspname = 'pgflow'), '>=', 14::bigint,
              'setup guide: schema pgflow has at least 14 functions');

SELECT tables_are('pgflow', ARRAY['flows', 'steps', 'deps', 'runs', 'step_states', 'step_tasks', 'workers'],
                  'schema pgflow has pgflow''s seven tables');

-- Column order of a database migrated to 0.8.1.
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.flows'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['flow_slug', 'opt_max_attempts', 'opt_base_delay', 'opt_timeout', 'created_at'],
          'flows columns in migration order');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.steps'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['flow_slug', 'step_slug', 'step_type', 'step_index', 'deps_count', 'opt_max_attempts',
                'opt_base_delay', 'opt_timeout', 'created_at', 'opt_start_delay',
                -- pgflow 0.14's conditions, appended
                'required_input_pattern', 'forbidden_input_pattern', 'when_unmet', 'when_exhausted'],
          'steps columns in migration order (opt_start_delay last of 0.8.1, then 0.14''s)');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.deps'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['flow_slug', 'dep_slug', 'step_slug', 'created_at'],
          'deps columns in migration order');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.runs'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['run_id', 'flow_slug', 'status', 'input', 'output', 'remaining_steps', 'started_at',
                'completed_at', 'failed_at'],
          'runs columns in migration order');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.step_states'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['flow_slug', 'run_id', 'step_slug', 'status', 'remaining_tasks', 'remaining_deps',
                'created_at', 'started_at', 'completed_at', 'failed_at', 'error_message', 'initial_tasks',
                'skip_reason', 'skipped_at'],
          'step_states columns in migration order (error_message, initial_tasks last of 0.8.1, then 0.14''s)');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.step_tasks'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['flow_slug', 'run_id', 'step_slug', 'message_id', 'task_index', 'status', 'attempts_count',
                'error_message', 'output', 'queued_at', 'completed_at', 'failed_at', 'started_at',
                'last_worker_id'],
          'step_tasks columns in migration order (started_at, last_worker_id last)');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'pgflow.workers'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['worker_id', 'queue_name', 'function_name', 'started_at', 'deprecated_at', 'last_heartbeat_at'],
          'workers columns');

SELECT is((SELECT array_agg(attname::text || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum)
           FROM pg_attribute WHERE attrelid = 'pgflow.step_task_record'::regtype::oid::regclass
              OR attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'pgflow.step_task_record'::regtype)),
          ARRAY['flow_slug text', 'run_id uuid', 'step_slug text', 'input jsonb', 'msg_id bigint', 'task_index integer'],
          'step_task_record attributes, task_index last');

-- Constraint names (callers see them in error messages); opt_timeout_fits_vt is an addition.
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = 'pgflow.flows'::regclass),
          ARRAY['flows_pkey', 'opt_base_delay_is_nonnegative', 'opt_max_attempts_is_nonnegative',
                'opt_timeout_fits_vt', 'opt_timeout_is_positive', 'slug_is_valid'], 'flows constraint names');
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = 'pgflow.steps'::regclass),
          ARRAY['forbidden_input_pattern_is_object', 'opt_base_delay_is_nonnegative', 'opt_max_attempts_is_nonnegative',
                'opt_start_delay_is_nonnegative', 'opt_timeout_fits_vt', 'opt_timeout_is_positive',
                'required_input_pattern_is_object', 'steps_deps_count_check', 'steps_flow_slug_fkey',
                'steps_flow_slug_step_index_key', 'steps_pkey', 'steps_step_slug_check', 'steps_step_type_check',
                'when_exhausted_is_valid', 'when_unmet_is_valid'],
          'steps constraint names');
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = 'pgflow.deps'::regclass),
          ARRAY['deps_check', 'deps_flow_slug_dep_slug_fkey', 'deps_flow_slug_fkey', 'deps_flow_slug_step_slug_fkey', 'deps_pkey'],
          'deps constraint names');
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = 'pgflow.runs'::regclass),
          ARRAY['completed_at_is_after_started_at', 'completed_at_or_failed_at', 'failed_at_is_after_started_at',
                'runs_flow_slug_fkey', 'runs_pkey', 'runs_remaining_steps_check', 'status_is_valid'],
          'runs constraint names');
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = 'pgflow.step_states'::regclass),
          ARRAY['completed_at_is_after_started_at', 'completed_at_or_failed_at_or_skipped_at', 'failed_at_is_after_started_at',
                'initial_tasks_known_when_started', 'remaining_tasks_state_consistency', 'skip_reason_matches_status',
                'skipped_at_is_after_created_at', 'started_at_is_after_created_at',
                'status_and_remaining_tasks_match', 'status_is_valid', 'step_states_flow_slug_fkey',
                'step_states_flow_slug_step_slug_fkey', 'step_states_initial_tasks_check', 'step_states_pkey',
                'step_states_remaining_deps_check', 'step_states_run_id_fkey'],
          'step_states constraint names');
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = 'pgflow.step_tasks'::regclass),
          ARRAY['attempts_count_nonnegative', 'completed_at_is_after_queued_at', 'completed_at_is_after_started_at',
                'completed_at_or_failed_at', 'failed_at_is_after_queued_at', 'failed_at_is_after_started_at',
                'output_valid_only_for_completed', 'started_at_is_after_queued_at', 'step_tasks_flow_slug_fkey',
                'step_tasks_last_worker_id_fkey', 'step_tasks_pkey', 'step_tasks_run_id_fkey',
                'step_tasks_run_id_step_slug_fkey', 'valid_status'],
          'step_tasks constraint names');
SELECT is((SELECT confdeltype::text FROM pg_constraint WHERE conname = 'step_tasks_last_worker_id_fkey'), 'n',
          'step_tasks.last_worker_id is ON DELETE SET NULL');

SELECT indexes_are('pgflow', 'step_tasks',
  ARRAY['step_tasks_pkey', 'idx_step_tasks_message_id', 'idx_step_tasks_queued', 'idx_step_tasks_completed',
        'idx_step_tasks_failed', 'idx_step_tasks_flow_run_step', 'idx_step_tasks_started', 'idx_step_tasks_queued_msg',
        'idx_step_tasks_last_worker', 'idx_step_tasks_finished_at'], 'step_tasks indexes');
SELECT indexes_are('pgflow', 'step_states',
  ARRAY['step_states_pkey', 'idx_step_states_ready', 'idx_step_states_failed', 'idx_step_states_flow_slug',
        'idx_step_states_run_id', 'idx_step_states_skipped'], 'step_states indexes');
SELECT indexes_are('pgflow', 'deps', ARRAY['deps_pkey', 'idx_deps_by_flow_step', 'idx_deps_by_flow_dep'], 'deps indexes');
SELECT indexes_are('pgflow', 'runs', ARRAY['runs_pkey', 'idx_runs_flow_slug', 'idx_runs_status', 'idx_runs_started_at',
                                           'idx_runs_flow_slug_status_started_at', 'idx_runs_status_started_at'],
                   'runs indexes (the last three: the dashboard''s)');
SELECT indexes_are('pgflow', 'workers', ARRAY['workers_pkey', 'idx_workers_queue_name', 'idx_workers_heartbeat'], 'workers indexes');

-- Function catalogue: signatures with argument names and defaults, one overload each; pgflow
-- 0.8.1's functions, and this project's additions (sql/README.md, "Additions").
SELECT is((SELECT array_agg(proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid)
                            ORDER BY proname)
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pgflow' AND proname NOT IN ('complete_tasks')),
          ARRAY[
            -- pgflow 0.14's internal helpers and add_step's four condition parameters
            '_archive_task_message(p_run_id uuid, p_step_slug text, p_task_index integer) -> void',
            '_cascade_force_skip_steps(run_id uuid, step_slug text, skip_reason text) -> integer',
            'add_step(flow_slug text, step_slug text, deps_slugs text[] DEFAULT ''{}''::text[], max_attempts integer DEFAULT NULL::integer, base_delay integer DEFAULT NULL::integer, timeout integer DEFAULT NULL::integer, start_delay integer DEFAULT NULL::integer, step_type text DEFAULT ''single''::text, required_input_pattern jsonb DEFAULT NULL::jsonb, forbidden_input_pattern jsonb DEFAULT NULL::jsonb, when_unmet text DEFAULT ''skip''::text, when_exhausted text DEFAULT ''fail''::text) -> pgflow.steps',
            'calculate_retry_delay(base_delay numeric, attempts_count integer) -> integer',
            'cascade_complete_taskless_steps(run_id uuid) -> integer',
            'cascade_resolve_conditions(run_id uuid) -> boolean',
            'complete_task(run_id uuid, step_slug text, task_index integer, output jsonb) -> SETOF pgflow.step_tasks',
            'create_flow(flow_slug text, max_attempts integer DEFAULT 3, base_delay integer DEFAULT 5, timeout integer DEFAULT 60) -> pgflow.flows',
            'fail_task(run_id uuid, step_slug text, task_index integer, error_message text) -> SETOF pgflow.step_tasks',
            'get_run_with_states(run_id uuid) -> jsonb',
            'is_valid_slug(slug text) -> boolean',
            'maybe_complete_run(run_id uuid) -> void',
            'poll_for_tasks(queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100) -> SETOF pgflow.step_task_record',
            'prune_data_older_than(retention_interval interval) -> void',
            'set_vt_batch(queue_name text, msg_ids bigint[], vt_offsets integer[]) -> TABLE(msg_id bigint, read_ct integer, enqueued_at timestamp with time zone, vt timestamp with time zone, message jsonb, headers jsonb)',
            'start_flow(flow_slug text, input jsonb, run_id uuid DEFAULT NULL::uuid) -> SETOF pgflow.runs',
            'start_flow_with_states(flow_slug text, input jsonb, run_id uuid DEFAULT NULL::uuid) -> jsonb',
            'start_ready_steps(run_id uuid) -> void',
            'start_tasks(flow_slug text, msg_ids bigint[], worker_id uuid) -> SETOF pgflow.step_task_record'
          ],
          'pgflow function catalogue: names, argument names, defaults and results as pgflow 0.8.1 (plus 0.14''s)');
SELECT is((SELECT array_agg(proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid)
                            ORDER BY proname)
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pgflow' AND proname IN ('complete_tasks')),
          ARRAY[
            'complete_tasks(run_ids uuid[], step_slugs text[], task_indexes integer[], outputs jsonb[]) -> SETOF pgflow.step_tasks'
          ],
          'the additions to schema pgflow');

-- Flow control (issue 16): the contract's signatures, its tables (all in pgflow_cpp), and the one
-- trigger it puts on a pgflow table.
SELECT is((SELECT array_agg(proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid)
                            ORDER BY proname)
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pgflow_cpp'
             AND proname IN ('set_step_limits', 'set_flow_limits', 'set_rate_limit', 'start_flow_with_priority')),
          ARRAY[
            'set_flow_limits(flow_slug text, max_concurrent_runs integer DEFAULT NULL::integer, concurrency_key text[] DEFAULT NULL::text[], max_runs_per_key integer DEFAULT NULL::integer) -> void',
            'set_rate_limit(name text, max_starts integer, per_seconds numeric) -> void',
            'set_step_limits(flow_slug text, step_slug text, max_concurrency integer DEFAULT NULL::integer, concurrency_key text[] DEFAULT NULL::text[], max_per_key integer DEFAULT NULL::integer, rate_limit text DEFAULT NULL::text) -> void',
            'start_flow_with_priority(flow_slug text, input jsonb, priority integer, run_id uuid DEFAULT NULL::uuid) -> SETOF pgflow.runs'
          ],
          'flow control functions in pgflow_cpp');
SELECT ok((SELECT bool_and(to_regclass('pgflow_cpp.' || t) IS NOT NULL)
           FROM unnest(ARRAY['step_limits', 'task_slots', 'rate_limits', 'rate_limit_starts', 'flow_limits',
                             'limited_runs', 'run_priorities']) AS t),
          'flow control tables in pgflow_cpp');
SELECT is((SELECT array_agg(tgrelid::regclass::text || ' ' || tgname::text) FROM pg_trigger
           WHERE NOT tgisinternal AND tgrelid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'pgflow'::regnamespace)),
          ARRAY['pgflow.runs pgflow_cpp_run_finished'],
          'the only trigger on pgflow''s tables: a run leaving ''started'' (run limits, priorities)');

SELECT is((SELECT array_agg(proname::text ORDER BY proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pgflow' AND p.prosecdef),
          ARRAY['add_step', 'complete_task', 'complete_tasks', 'create_flow', 'fail_task', 'get_run_with_states',
                'prune_data_older_than', 'start_flow', 'start_flow_with_states', 'start_tasks'],
          'the *_with_states functions are SECURITY DEFINER as in pgflow, and so is every function that changes state '
          '(sql/pgflow/0950_privileges.sql)');
SELECT is((SELECT array_agg(proname::text ORDER BY proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pgflow' AND p.provolatile = 'i'),
          ARRAY['calculate_retry_delay', 'is_valid_slug'], 'is_valid_slug and calculate_retry_delay are IMMUTABLE');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'pgflow.calculate_retry_delay(numeric,integer)'::regprocedure),
          's', 'calculate_retry_delay is PARALLEL SAFE');
SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname IN ('pgflow', 'pgmq', 'pgflow_cpp')
             AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=""']),
          0::bigint, 'every function of pgflow, pgmq and pgflow_cpp pins search_path');

-- Steps without handlers (issue 15): the functions and tables in schema pgflow_cpp.
SELECT is((SELECT array_agg(proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid)
                            ORDER BY proname)
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pgflow_cpp' AND proname IN ('set_step_kind', 'json_matches_shape', 'signal', 'sleep_task',
                                                         'wake_due_waits', 'next_wake_at', 'run_waits')),
          ARRAY[
            'json_matches_shape(value jsonb, shape jsonb) -> text',
            'next_wake_at() -> timestamp with time zone',
            'run_waits(run_id uuid) -> TABLE(step_slug text, task_index integer, kind text, waiting_since timestamp with time zone, wake_at timestamp with time zone, child_run_id uuid)',
            'set_step_kind(flow_slug text, step_slug text, kind text, signal_timeout integer DEFAULT NULL::integer, value_shape jsonb DEFAULT NULL::jsonb, child_flow_slug text DEFAULT NULL::text) -> void',
            'signal(run_id uuid, step_slug text, value jsonb, task_index integer DEFAULT 0) -> void',
            'sleep_task(run_id uuid, step_slug text, task_index integer, until timestamp with time zone) -> void',
            'wake_due_waits(max_count integer DEFAULT 100) -> integer'
          ],
          'pgflow_cpp: the functions of steps without handlers');
SELECT columns_are('pgflow_cpp', 'step_kinds', ARRAY['flow_slug', 'step_slug', 'kind', 'signal_timeout', 'value_shape', 'child_flow_slug'],
                   'pgflow_cpp.step_kinds columns');
SELECT columns_are('pgflow_cpp', 'waits', ARRAY['run_id', 'step_slug', 'task_index', 'kind', 'waiting_since', 'wake_at',
                                                'child_run_id', 'start_error'], 'pgflow_cpp.waits columns');
SELECT ok((SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = 'pgflow_cpp.run_control'::regclass AND attnum > 0)
          @> ARRAY['parent_run_id', 'parent_step_slug', 'parent_task_index'], 'pgflow_cpp.run_control records a child run''s parent');

SELECT ok(NOT has_schema_privilege('public', 'pgflow', 'USAGE'), 'PUBLIC has no access to schema pgflow');
SELECT matches(pgflow_cpp.installed_version(), '^[0-9]+\.[0-9]+\.[0-9]+$', 'the installed version is queryable (which one: sql.install_twice)');
SELECT is(pgflow_cpp.installed_queue(), 'builtin', 'the tests run on the built-in queue');

-- Monitoring queries of the set-up guide after a few runs: two completed runs of 'guide_ok', one
-- run of 'guide_ok' still started, one failed run of 'guide_fail'.
SELECT pgflow.create_flow('guide_ok');
SELECT pgflow.add_step('guide_ok', 'only');
SELECT pgflow.create_flow('guide_fail', max_attempts => 1);
SELECT pgflow.add_step('guide_fail', 'boom');
SELECT pgflow.start_flow('guide_ok', '{}') FROM generate_series(1, 2);
SELECT pgflow_tests.run_visible_tasks('guide_ok');
SELECT pgflow.start_flow('guide_ok', '{}');
SELECT pgflow.start_flow('guide_fail', '{}');
SELECT pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'card declined')
FROM pgflow_tests.read_and_start('guide_fail') AS t;

SELECT results_eq(
  $$SELECT flow_slug, status, COUNT(*) FROM pgflow.runs WHERE status = 'started' GROUP BY flow_slug, status$$,
  $$VALUES ('guide_ok'::text, 'started'::text, 1::bigint)$$,
  'setup guide monitoring: active runs by flow');
SELECT results_eq(
  $$SELECT r.flow_slug, ss.step_slug, st.error_message
    FROM pgflow.step_tasks st
    JOIN pgflow.runs r ON st.run_id = r.run_id
    JOIN pgflow.step_states ss ON st.run_id = ss.run_id AND st.step_slug = ss.step_slug
    WHERE st.status = 'failed'$$,
  $$VALUES ('guide_fail'::text, 'boom'::text, 'card declined'::text)$$,
  'setup guide monitoring: failed tasks with their error messages');
SELECT results_eq(
  $$SELECT flow_slug, (AVG(EXTRACT(EPOCH FROM (completed_at - started_at))) >= 0) AS has_avg, count(*)
    FROM pgflow.runs WHERE status = 'completed' GROUP BY flow_slug$$,
  $$VALUES ('guide_ok'::text, true, 2::bigint)$$,
  'setup guide monitoring: average completion time by flow covers the completed runs');
SELECT lives_ok(
  $$SELECT flow_slug, AVG(EXTRACT(EPOCH FROM (completed_at - started_at))) as avg_seconds
    FROM pgflow.runs WHERE status = 'completed' GROUP BY flow_slug$$,
  'setup guide monitoring: the completion-time query runs unchanged');

SELECT * FROM finish();
