-- Run by tests/sql/role_privileges.sh in a database installed by the README's owner role and
-- granted as its "grants" block says (role names carry the suffix in pgflow_test.role_suffix).
-- Each role may do exactly its part: every statement below is tried as every role and rolled back.
CREATE FUNCTION pg_temp.r(base text) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT base || current_setting('pgflow_test.role_suffix') $$;

-- A login member of the owner role registers a flow without SET ROLE: registration runs as the
-- owner, so the owner owns the queue tables and the workers' default privileges apply.
SELECT set_config('role', pg_temp.r('pgflow_member'), false);
SELECT pgflow.create_flow('matrix');
SELECT pgflow.add_step('matrix', 'a');
SELECT pgflow.add_step('matrix', 'b', ARRAY['a']);
RESET ROLE;

-- Two runs; the first one's task claimed by a registered worker (for complete/fail), the second's
-- message left visible (for the claims).
SELECT pgflow_tests.ensure_worker('matrix');
SELECT pgflow.start_flow('matrix', '{"n": 1}', '00000000-0000-0000-0000-00000000e001');
SELECT count(*) FROM pgflow.start_tasks('matrix', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id());
SELECT pgflow.start_flow('matrix', '{"n": 2}', '00000000-0000-0000-0000-00000000e002');
SELECT pgflow_cpp.add_schedule('matrix_daily', 'matrix', '0 2 * * *');

-- ok: allowed (no error); 42501: permission denied; NULL: not asserted.
CREATE TEMP TABLE matrix (what text, stmt text, owner text, worker text, client text, monitor text, nobody text);
INSERT INTO matrix VALUES
  ('register a flow (create_flow)', $$SELECT pgflow.create_flow('another')$$, 'ok', '42501', '42501', '42501', '42501'),
  ('add a step (add_step)', $$SELECT pgflow.add_step('matrix', 'c', ARRAY['b'])$$, 'ok', '42501', '42501', '42501', '42501'),
  ('start a run (start_flow)', $$SELECT pgflow.start_flow('matrix', '{}')$$, 'ok', '42501', 'ok', '42501', '42501'),
  ('start a run (start_flow_with_states)', $$SELECT pgflow.start_flow_with_states('matrix', '{}')$$, 'ok', '42501', 'ok', '42501', '42501'),
  ('read a run (get_run_with_states)', $$SELECT pgflow.get_run_with_states('00000000-0000-0000-0000-00000000e001')$$,
   'ok', '42501', 'ok', 'ok', '42501'),
  ('read runs, steps and tasks', $$SELECT count(*) FROM pgflow.runs, pgflow.step_states, pgflow.step_tasks$$, 'ok', 'ok', 'ok', 'ok', '42501'),
  ('read queue metrics', $$SELECT * FROM pgmq.metrics_all()$$, 'ok', NULL, NULL, 'ok', '42501'),
  ('claim tasks (read_and_start_tasks)', $$SELECT * FROM pgflow_cpp.read_and_start_tasks('matrix', 30, 10, '11111111-1111-1111-1111-111111111111')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('claim tasks as pgflow 0.8.1 workers do (pgmq.read_with_poll, start_tasks)',
   $$SELECT * FROM pgflow.start_tasks('matrix', ARRAY(SELECT msg_id FROM pgmq.read_with_poll('matrix', 30, 10, 1, 50)), '11111111-1111-1111-1111-111111111111')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('complete a task (complete_task)', $$SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000e001', 'a', 0, '1')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('complete tasks (complete_tasks)',
   $$SELECT pgflow.complete_tasks(ARRAY['00000000-0000-0000-0000-00000000e001'::uuid], ARRAY['a'], ARRAY[0], ARRAY['1'::jsonb])$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('fail a task (fail_task)', $$SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000e001', 'a', 0, 'no')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('fail an abandoned attempt (fail_task_attempt)',
   $$SELECT pgflow_cpp.fail_task_attempt('00000000-0000-0000-0000-00000000e001', 'a', 0, 1, '11111111-1111-1111-1111-111111111111', 'no')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('fail a task at once (fail_task_permanently)',
   $$SELECT pgflow_cpp.fail_task_permanently('00000000-0000-0000-0000-00000000e001', 'a', 0, 'no')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('start a run once per key (start_flow_idempotent)', $$SELECT pgflow_cpp.start_flow_idempotent('matrix', '{}', 'k')$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('cancel a run (cancel_run)', $$SELECT pgflow_cpp.cancel_run('00000000-0000-0000-0000-00000000e002')$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('retry a run (retry_run; 55000: the run is not failed, the call was allowed)',
   $$SELECT pgflow_cpp.retry_run('00000000-0000-0000-0000-00000000e002')$$, '55000', '42501', '55000', '42501', '42501'),
  ('resume a run (resume_run; 55000: the run is not failed, the call was allowed)',
   $$SELECT pgflow_cpp.resume_run('00000000-0000-0000-0000-00000000e002')$$, '55000', '42501', '55000', '42501', '42501'),
  ('read a run''s status and lineage (run_status)', $$SELECT * FROM pgflow_cpp.run_status('00000000-0000-0000-0000-00000000e001')$$,
   'ok', '42501', 'ok', 'ok', '42501'),
  ('skip a step and its dependents (pgflow._cascade_force_skip_steps, internal)',
   $$SELECT pgflow._cascade_force_skip_steps('00000000-0000-0000-0000-00000000e002', 'b', 'condition_unmet')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('evaluate a run''s conditions (pgflow.cascade_resolve_conditions, internal)',
   $$SELECT pgflow.cascade_resolve_conditions('00000000-0000-0000-0000-00000000e002')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('archive a task''s message (pgflow._archive_task_message, internal)',
   $$SELECT pgflow._archive_task_message('00000000-0000-0000-0000-00000000e001', 'a', 0)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('prune old runs (prune_data_older_than)', $$SELECT pgflow.prune_data_older_than(interval '30 days')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('start runs in a batch (start_many)', $$SELECT pgflow_cpp.start_many('matrix', ARRAY['{}'::jsonb])$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('start a run with a priority (start_flow_with_priority)', $$SELECT pgflow_cpp.start_flow_with_priority('matrix', '{}', 3)$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('declare step limits (set_step_limits)', $$SELECT pgflow_cpp.set_step_limits('matrix', 'a', 2)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('declare run limits (set_flow_limits)', $$SELECT pgflow_cpp.set_flow_limits('matrix', 2)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('declare a rate limit (set_rate_limit)', $$SELECT pgflow_cpp.set_rate_limit('partner', 5, 1)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('admit waiting runs (pgflow_cpp._admit_runs, internal)', $$SELECT pgflow_cpp._admit_runs('matrix', NULL)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('admit limited tasks (pgflow_cpp._admit_tasks, internal)',
   $$SELECT pgflow_cpp._admit_tasks('matrix', ARRAY['00000000-0000-0000-0000-00000000e002'::uuid], ARRAY['a'], ARRAY[0])$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('free task slots (pgflow_cpp._release_task_slots, internal)',
   $$SELECT pgflow_cpp._release_task_slots(ARRAY['00000000-0000-0000-0000-00000000e002'::uuid], ARRAY['a'], ARRAY[0])$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('start a resumed run''s partly completed steps (pgflow_cpp._start_partial_steps, internal)',
   $$SELECT pgflow_cpp._start_partial_steps('00000000-0000-0000-0000-00000000e002')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('read the flow control tables', $$SELECT count(*) FROM pgflow_cpp.step_limits, pgflow_cpp.flow_limits, pgflow_cpp.task_slots$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('fail a task through the shared body (pgflow_cpp.fail_task_internal, internal)',
   $$SELECT pgflow_cpp.fail_task_internal('00000000-0000-0000-0000-00000000e001', 'a', 0, 'no', true)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('fail an exhausted task''s step and run (pgflow_cpp.fail_exhausted_step, internal)',
   $$SELECT pgflow_cpp.fail_exhausted_step('00000000-0000-0000-0000-00000000e001', 'matrix', 'a', 0, 'no')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('skip an exhausted task''s step (pgflow_cpp.skip_exhausted_step, internal)',
   $$SELECT pgflow_cpp.skip_exhausted_step('00000000-0000-0000-0000-00000000e001', 'matrix', 'a', NULL, 'no', false)$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('read run control rows', $$SELECT * FROM pgflow_cpp.run_control$$, 'ok', '42501', '42501', '42501', '42501'),
  ('declare a step without a handler (set_step_kind; 22023: matrix has runs, so b''s kind cannot change, the call was allowed)',
   $$SELECT pgflow_cpp.set_step_kind('matrix', 'b', 'sleep')$$, '22023', '42501', '42501', '42501', '42501'),
  ('signal a step (signal; 22023: a is no signal step, the call was allowed)',
   $$SELECT pgflow_cpp.signal('00000000-0000-0000-0000-00000000e001', 'a', '{}')$$, '22023', '42501', '22023', '42501', '42501'),
  ('park a sleep task (sleep_task; 22023: a is no sleep step, the call was allowed)',
   $$SELECT pgflow_cpp.sleep_task('00000000-0000-0000-0000-00000000e001', 'a', 0, now())$$, '22023', '22023', '42501', '42501', '42501'),
  ('wake due waits (wake_due_waits)', $$SELECT pgflow_cpp.wake_due_waits()$$, 'ok', 'ok', '42501', '42501', '42501'),
  ('read the next wake-up time (next_wake_at)', $$SELECT pgflow_cpp.next_wake_at()$$, 'ok', 'ok', '42501', 'ok', '42501'),
  ('read a run''s waiting tasks (run_waits)', $$SELECT * FROM pgflow_cpp.run_waits('00000000-0000-0000-0000-00000000e001')$$,
   'ok', '42501', 'ok', 'ok', '42501'),
  ('check a value''s shape (json_matches_shape)', $$SELECT pgflow_cpp.json_matches_shape('1', '{"type":"number"}')$$,
   'ok', 'ok', 'ok', 'ok', '42501'),
  ('start a child run (pgflow_cpp.start_child_run, internal)',
   $$SELECT pgflow_cpp.start_child_run('00000000-0000-0000-0000-00000000e001', 'matrix', 'a', 0)$$, NULL, '42501', '42501', '42501', '42501'),
  ('wake one wait (pgflow_cpp.wake_wait, internal)',
   $$SELECT pgflow_cpp.wake_wait('00000000-0000-0000-0000-00000000e001', 'a', 0)$$, 'ok', '42501', '42501', '42501', '42501'),
  ('read waits rows', $$SELECT * FROM pgflow_cpp.waits$$, 'ok', '42501', '42501', '42501', '42501'),
  ('read step kinds (definitions, as pgflow.steps)', $$SELECT * FROM pgflow_cpp.step_kinds$$, 'ok', 'ok', 'ok', 'ok', '42501'),
  ('add a schedule (add_schedule)', $$SELECT pgflow_cpp.add_schedule('m1', 'matrix', '@every 1 hour')$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('add a prune schedule (add_prune_schedule)', $$SELECT pgflow_cpp.add_prune_schedule('m2', '30 days', '@daily')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('change a schedule (update_schedule)', $$SELECT pgflow_cpp.update_schedule('matrix_daily', input => '{"n": 3}')$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('pause a schedule (set_schedule_enabled)', $$SELECT pgflow_cpp.set_schedule_enabled('matrix_daily', false)$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('remove a schedule (remove_schedule)', $$SELECT pgflow_cpp.remove_schedule('matrix_daily')$$,
   'ok', '42501', 'ok', '42501', '42501'),
  ('start due scheduled runs (run_due_schedules)', $$SELECT * FROM pgflow_cpp.run_due_schedules()$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('take and give up the scheduler lease', $$SELECT pgflow_cpp.acquire_scheduler_lease('m'), pgflow_cpp.release_scheduler_lease('m')$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('read schedules, their runs and the lease', $$SELECT count(*) FROM pgflow_cpp.schedules, pgflow_cpp.schedule_runs, pgflow_cpp.scheduler_lease$$,
   'ok', 'ok', 'ok', 'ok', '42501'),
  ('change a schedule directly (UPDATE schedules)', $$UPDATE pgflow_cpp.schedules SET enabled = false$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('compute a cron tick (cron_next_run)', $$SELECT pgflow_cpp.cron_next_run('0 2 * * *', 'UTC', now())$$,
   'ok', 'ok', 'ok', 'ok', '42501'),
  ('register and heartbeat as pgflow-cpp''s worker (upsert into workers)',
   $$INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES (gen_random_uuid(), 'matrix', 'x')
     ON CONFLICT (worker_id) DO UPDATE SET last_heartbeat_at = clock_timestamp() RETURNING deprecated_at IS NOT NULL$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('heartbeat and stop as pgflow 0.8.1''s worker (update workers)',
   $$UPDATE pgflow.workers SET last_heartbeat_at = now(), deprecated_at = now() WHERE worker_id = '11111111-1111-1111-1111-111111111111'$$,
   'ok', 'ok', '42501', '42501', '42501'),
  ('publish deferred notifications', $$SELECT pgflow_cpp.publish_deferred_notifications()$$, 'ok', 'ok', 'ok', '42501', '42501'),
  ('mark a run completed (UPDATE runs)',
   $$UPDATE pgflow.runs SET status = 'completed', completed_at = now(), output = '1', remaining_steps = 0
     WHERE run_id = '00000000-0000-0000-0000-00000000e001'$$, 'ok', '42501', '42501', '42501', '42501'),
  ('change a step (UPDATE step_states)', $$UPDATE pgflow.step_states SET error_message = 'x'$$, 'ok', '42501', '42501', '42501', '42501'),
  ('change a task (UPDATE step_tasks)', $$UPDATE pgflow.step_tasks SET error_message = 'x'$$, 'ok', '42501', '42501', '42501', '42501'),
  ('insert a run (INSERT runs)', $$INSERT INTO pgflow.runs (flow_slug, remaining_steps, input) VALUES ('matrix', 2, '{}')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('delete runs', $$DELETE FROM pgflow.step_tasks$$, 'ok', '42501', '42501', '42501', '42501'),
  ('change a flow (UPDATE flows)', $$UPDATE pgflow.flows SET opt_max_attempts = 9$$, 'ok', '42501', '42501', '42501', '42501'),
  ('send a queue message (pgmq.send)', $$SELECT pgmq.send('matrix', '{}')$$, 'ok', '42501', '42501', '42501', '42501'),
  ('delete queue messages', $$SELECT pgmq.purge_queue('matrix')$$, 'ok', '42501', '42501', '42501', '42501'),
  ('read deferred notifications', $$SELECT * FROM pgflow_cpp.deferred_notifications$$, 'ok', '42501', '42501', '42501', '42501'),
  ('delete deferred notifications', $$DELETE FROM pgflow_cpp.deferred_notifications$$, 'ok', '42501', '42501', '42501', '42501'),
  ('notify through pgflow_cpp.notify', $$SELECT pgflow_cpp.notify('pgflow:queue:matrix', '')$$, 'ok', '42501', '42501', '42501', '42501'),
  ('send a run event (pgflow_cpp.broadcast)', $$SELECT pgflow_cpp.broadcast('{}', 'run:completed', '00000000-0000-0000-0000-00000000e001')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('complete a run (maybe_complete_run)', $$SELECT pgflow.maybe_complete_run('00000000-0000-0000-0000-00000000e001')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('start steps (start_ready_steps)', $$SELECT pgflow.start_ready_steps('00000000-0000-0000-0000-00000000e001')$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('hide messages (set_vt_batch)', $$SELECT * FROM pgflow.set_vt_batch('matrix', ARRAY[1::bigint], ARRAY[99])$$,
   'ok', '42501', '42501', '42501', '42501'),
  ('read the installed version', $$SELECT pgflow_cpp.installed_version(), pgflow_cpp.installed_queue()$$, 'ok', 'ok', 'ok', 'ok', '42501');

SELECT plan((SELECT count(*)::integer FROM matrix AS m, LATERAL (VALUES (m.owner), (m.worker), (m.client), (m.monitor), (m.nobody)) AS e(x)
             WHERE e.x IS NOT NULL) + 6);

SELECT is((SELECT array_agg(tableowner::text ORDER BY tablename) FROM pg_tables WHERE schemaname = 'pgmq' AND tablename LIKE '%\_matrix'),
          ARRAY[pg_temp.r('pgflow_owner'), pg_temp.r('pgflow_owner')],
          'the queue tables of a flow a member of the owner role registered without SET ROLE belong to the owner role');
SELECT is((SELECT p.proowner::regrole::text FROM pg_proc AS p WHERE p.oid = 'pgflow.create_flow(text,integer,integer,integer)'::regprocedure),
          pg_temp.r('pgflow_owner'), 'the functions belong to the role that installed the schema');
SELECT is(pgflow_tests.sqlstate_as(pg_temp.r('pgflow_member'), $$SELECT pgflow.start_flow('matrix', '{}')$$), 'ok',
          'a member of the owner role may do what the owner may');

SELECT is(pgflow_tests.sqlstate_as(pg_temp.r(role), m.stmt), e.expected,
          format('%s %s %s', role, CASE e.expected WHEN 'ok' THEN 'may' ELSE 'may not' END, m.what))
FROM matrix AS m,
     LATERAL (VALUES ('pgflow_owner', m.owner), ('pgflow_worker', m.worker), ('pgflow_client', m.client),
                     ('pgflow_monitor', m.monitor), ('pgflow_nobody', m.nobody)) AS e(role, expected)
WHERE e.expected IS NOT NULL;

-- The model itself: PUBLIC executes only read-only functions, and every function that changes
-- state runs as the owner with a pinned search_path.
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
           FROM pg_proc AS p
           WHERE p.pronamespace IN ('pgflow'::regnamespace, 'pgflow_cpp'::regnamespace)
             AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) AS a
                                              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))),
          ARRAY['pgflow.calculate_retry_delay(numeric,integer)', 'pgflow.is_valid_slug(text)',
                'pgflow_cpp.cron_field_values(text,text,text,integer,integer,text[])',
                'pgflow_cpp.cron_next_run(text,text,timestamp with time zone)',
                'pgflow_cpp.installed_queue()', 'pgflow_cpp.installed_version()',
                'pgflow_cpp.json_matches_shape(jsonb,jsonb)', 'pgflow_cpp.json_shape_mismatch(jsonb,jsonb,text)',
                'pgflow_cpp.schedule_catch_up_checked(text)'],
          'PUBLIC may execute only the pure and read-only functions');
SELECT is((SELECT count(*) FROM pg_proc AS p
           WHERE p.pronamespace IN ('pgflow'::regnamespace, 'pgflow_cpp'::regnamespace) AND p.prosecdef
             AND NOT coalesce(p.proconfig @> ARRAY['search_path=""'], false)),
          0::bigint, 'every SECURITY DEFINER function pins search_path');
SELECT is((SELECT count(*) FROM pg_class AS c, aclexplode(c.relacl) AS a
           WHERE c.relnamespace IN ('pgflow'::regnamespace, 'pgflow_cpp'::regnamespace) AND c.relkind = 'r'
             AND a.grantee <> c.relowner AND a.privilege_type <> 'SELECT'),
          0::bigint, 'no role but the owner may write a whole table (workers write the columns of their heartbeat)');
SELECT * FROM finish();
