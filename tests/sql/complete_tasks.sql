-- pgflow.complete_tasks (an addition): a batch has the effect of complete_task called for each
-- element in order. The same scenario runs twice on identical runs, once completing one task at a
-- time and once in batches; rows, counters, queue messages, events (through the realtime
-- stand-in, in order) and results must be the same. Also: the batch really takes its bulk path,
-- argument errors, empty batches, and two sessions completing the same step at once.
\ir fixtures/realtime_stand_in.sql
SELECT plan(24);

SELECT pgflow.create_flow('ct_map');
SELECT pgflow.add_step('ct_map', 'items', step_type => 'map');
SELECT pgflow.add_step('ct_map', 'sum', ARRAY['items']);
SELECT pgflow.create_flow('ct_chain');
SELECT pgflow.add_step('ct_chain', 'a');
SELECT pgflow.add_step('ct_chain', 'b', ARRAY['a']);
SELECT pgflow.create_flow('ct_types');
SELECT pgflow.add_step('ct_types', 'items', step_type => 'map');
SELECT pgflow.add_step('ct_types', 'list');
SELECT pgflow.add_step('ct_types', 'each', ARRAY['list'], step_type => 'map');
SELECT pgflow.create_flow('ct_empty');
SELECT pgflow.add_step('ct_empty', 'a');
SELECT pgflow.add_step('ct_empty', 'm', ARRAY['a'], step_type => 'map');
SELECT pgflow.add_step('ct_empty', 'z', ARRAY['m']);
SELECT pgflow_tests.ensure_worker(f) FROM unnest(ARRAY['ct_map', 'ct_chain', 'ct_types', 'ct_empty']) AS f;

-- Run ids of a scenario: <mode prefix>-0000-0000-0000-0000000000<k>.
CREATE FUNCTION pg_temp.run(prefix text, k int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT (prefix || '-0000-0000-0000-' || lpad(k::text, 12, '0'))::uuid
$$;
CREATE FUNCTION pg_temp.label(run uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT ltrim(right(run::text, 12), '0')
$$;
-- Claims every queued task of the scenario's runs, except those named in skip (run k, step, index).
CREATE FUNCTION pg_temp.claim(prefix text, skip text[] DEFAULT '{}') RETURNS void LANGUAGE plpgsql AS $$
DECLARE f text;
BEGIN
  FOR f IN SELECT DISTINCT t.flow_slug FROM pgflow.step_tasks AS t WHERE t.run_id::text LIKE prefix || '%' LOOP
    PERFORM pgflow.start_tasks(f, ARRAY(
      SELECT t.message_id FROM pgflow.step_tasks AS t
      WHERE t.flow_slug = f AND t.run_id::text LIKE prefix || '%' AND t.status = 'queued'
        AND NOT (pg_temp.label(t.run_id) || '/' || t.step_slug || '/' || t.task_index) = ANY (skip)),
      pgflow_tests.worker_id());
  END LOOP;
END;
$$;
-- The scenario's batches: (batch number, run k, step, task_index, output), in order.
CREATE TABLE pg_temp.elements (batch int, ord serial, k int, step_slug text, task_index int, output jsonb);
INSERT INTO pg_temp.elements (batch, k, step_slug, task_index, output) VALUES
  (1, 1, 'items', 3, '31'),
  (1, 3, 'a', 0, '{"x": 1}'),              -- completes a single step: b starts
  (1, 1, 'items', 0, '1'),
  (1, 4, 'items', 0, '"i0"'),
  (1, 4, 'list', 0, '{"not": "array"}'),   -- type violation: run 4 fails ...
  (1, 4, 'items', 1, '"i1"'),              -- ... so this one changes nothing
  (1, 1, 'items', 4, '41'),
  (1, 2, 'items', 2, '7'),                 -- not claimed: still queued, changes nothing
  (1, 1, 'items', 1, '11'),
  (1, 1, 'items', 1, '999'),               -- the same task again: changes nothing
  (1, 5, 'a', 0, '[]'),                    -- empty array for the map: m cascades, z starts
  (1, 1, 'items', 2, '21'),                -- the last of run 1's items: step:completed, sum starts
  (1, 2, 'items', 0, '0'),                 -- falsy outputs are kept
  (1, 7, 'items', 0, '"late"'),            -- run 7 failed before the batch
  (1, 3, 'nosuch', 0, '1'),                -- no such task
  (1, 2, 'items', 1, 'false'),
  (2, 3, 'b', 0, '"done"'),                -- run 3 completes
  (2, 1, 'sum', 0, '111'),                 -- run 1 completes
  (2, 5, 'z', 0, '"zz"'),                  -- run 5 completes
  (2, 2, 'items', 2, '"late"');            -- still queued

-- Sets up the scenario's runs, then completes batch 1, claims what it started, completes batch 2;
-- one element at a time (batched = false) or with complete_tasks. Returns the rows returned.
CREATE FUNCTION pg_temp.scenario(prefix text, batched boolean)
RETURNS TABLE (batch int, label text, step_slug text, task_index int, status text, output jsonb, error_message text)
LANGUAGE plpgsql AS $$
DECLARE
  e record;
  b int;
BEGIN
  PERFORM pgflow.start_flow('ct_map', '[10, 20, 30, 40, 50]', pg_temp.run(prefix, 1));
  PERFORM pgflow.start_flow('ct_map', '[1, 2, 3]', pg_temp.run(prefix, 2));
  PERFORM pgflow.start_flow('ct_chain', '{"c": 3}', pg_temp.run(prefix, 3));
  PERFORM pgflow.start_flow('ct_types', '[7, 8, 9]', pg_temp.run(prefix, 4));
  PERFORM pgflow.start_flow('ct_empty', '{"e": 5}', pg_temp.run(prefix, 5));
  PERFORM pgflow.start_flow('ct_types', '[1]', pg_temp.run(prefix, 7));
  PERFORM pg_temp.claim(prefix, ARRAY['2/items/2']);
  PERFORM pgflow.complete_task(pg_temp.run(prefix, 7), 'list', 0, '"no array"');  -- fails run 7
  FOR b IN 1 .. 2 LOOP
    IF b = 2 THEN
      PERFORM pg_temp.claim(prefix, ARRAY['2/items/2']);
    END IF;
    IF batched THEN
      RETURN QUERY
      SELECT b, pg_temp.label(t.run_id), t.step_slug, t.task_index, t.status, t.output, t.error_message
      FROM pgflow.complete_tasks(
             ARRAY(SELECT pg_temp.run(prefix, x.k) FROM pg_temp.elements AS x WHERE x.batch = b ORDER BY x.ord),
             ARRAY(SELECT x.step_slug FROM pg_temp.elements AS x WHERE x.batch = b ORDER BY x.ord),
             ARRAY(SELECT x.task_index FROM pg_temp.elements AS x WHERE x.batch = b ORDER BY x.ord),
             ARRAY(SELECT x.output FROM pg_temp.elements AS x WHERE x.batch = b ORDER BY x.ord)) AS t;
    ELSE
      FOR e IN SELECT * FROM pg_temp.elements AS x WHERE x.batch = b ORDER BY x.ord LOOP
        RETURN QUERY
        SELECT b, pg_temp.label(t.run_id), t.step_slug, t.task_index, t.status, t.output, t.error_message
        FROM pgflow.complete_task(pg_temp.run(prefix, e.k), e.step_slug, e.task_index, e.output) AS t;
      END LOOP;
    END IF;
  END LOOP;
END;
$$;

-- Everything the scenario's runs left behind, with run ids replaced by their k and timestamps by
-- whether they are set.
CREATE FUNCTION pg_temp.state(prefix text) RETURNS TABLE (what text, row_text text) LANGUAGE sql AS $$
  SELECT 'run', format('%s %s %s %s %s %s', pg_temp.label(r.run_id), r.flow_slug, r.status, r.remaining_steps, r.output,
                       r.completed_at IS NOT NULL)
  FROM pgflow.runs AS r WHERE r.run_id::text LIKE prefix || '%'
  UNION ALL
  SELECT 'step', format('%s %s %s %s %s %s %s %s %s', pg_temp.label(s.run_id), s.step_slug, s.status, s.remaining_tasks,
                        s.remaining_deps, s.initial_tasks, s.error_message, s.completed_at IS NOT NULL, s.failed_at IS NOT NULL)
  FROM pgflow.step_states AS s WHERE s.run_id::text LIKE prefix || '%'
  UNION ALL
  SELECT 'task', format('%s %s %s %s %s %s %s %s %s', pg_temp.label(t.run_id), t.step_slug, t.task_index, t.status, t.output,
                        t.attempts_count, t.error_message, t.completed_at IS NOT NULL, t.failed_at IS NOT NULL)
  FROM pgflow.step_tasks AS t WHERE t.run_id::text LIKE prefix || '%'
  UNION ALL
  SELECT 'message ' || CASE WHEN t.message_id = ANY (pgflow_tests.archived_ids(t.flow_slug)) THEN 'archived' ELSE 'in queue' END,
         format('%s %s %s', pg_temp.label(t.run_id), t.step_slug, t.task_index)
  FROM pgflow.step_tasks AS t WHERE t.run_id::text LIKE prefix || '%'
  ORDER BY 1, 2
$$;
-- The scenario's events in the order they were sent, without timestamps.
CREATE FUNCTION pg_temp.events(prefix text) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(format('%s %s %s', pg_temp.label(substr(m.topic, 12)::uuid), m.event,
                          (SELECT jsonb_object_agg(p.key, p.value) FROM jsonb_each(m.payload) AS p
                           WHERE p.key <> 'run_id' AND p.key NOT LIKE '%\_at'))
                   ORDER BY m.id)
  FROM realtime.messages AS m WHERE m.topic LIKE 'pgflow:run:' || prefix || '%'
$$;

CREATE TABLE pg_temp.one_by_one AS SELECT * FROM pg_temp.scenario('aaaaaaaa', false);
CREATE TABLE pg_temp.batched AS SELECT * FROM pg_temp.scenario('bbbbbbbb', true);

-- 1. Same results, same state, same events.
SELECT results_eq($$SELECT * FROM pg_temp.batched$$, $$SELECT * FROM pg_temp.one_by_one$$,
                  'complete_tasks returns, in input order, the rows complete_task returns one element at a time');
SELECT is((SELECT count(*) FROM pg_temp.batched), 19::bigint,
          'one row per element (the type violation''s failed task too), none for the unknown task');
SELECT set_eq($$SELECT * FROM pg_temp.state('bbbbbbbb')$$, $$SELECT * FROM pg_temp.state('aaaaaaaa')$$,
              'runs, step states, tasks and queue messages end up the same');
SELECT is(pg_temp.events('bbbbbbbb'), pg_temp.events('aaaaaaaa'), 'the same events in the same order');

-- 2. ... and they are the expected ones (so that the comparison compares something).
SELECT results_eq($$SELECT pg_temp.label(run_id), status, output FROM pgflow.runs WHERE run_id::text LIKE 'bbbbbbbb%' ORDER BY 1$$,
                  $$VALUES ('1', 'completed', '{"sum": 111}'::jsonb), ('2', 'started', NULL), ('3', 'completed', '{"b": "done"}'),
                           ('4', 'failed', NULL), ('5', 'completed', '{"z": "zz"}'), ('7', 'failed', NULL)$$,
                  'runs 1, 3 and 5 completed, 4 and 7 failed, 2 still runs');
SELECT is((SELECT output FROM pgflow.step_tasks WHERE run_id = pg_temp.run('bbbbbbbb', 2) AND step_slug = 'items' ORDER BY task_index LIMIT 1),
          '0'::jsonb, 'falsy outputs are kept');
SELECT is((SELECT payload->'output' FROM realtime.messages
           WHERE topic = 'pgflow:run:' || pg_temp.run('bbbbbbbb', 1) AND event = 'step:items:completed'),
          '[1, 11, 21, 31, 41]'::jsonb, 'the map step''s completion event carries all outputs in task order');
SELECT results_eq($$SELECT step_slug, status FROM pgflow.step_tasks WHERE run_id = pg_temp.run('bbbbbbbb', 4) ORDER BY step_slug, task_index$$,
                  $$VALUES ('items', 'completed'), ('items', 'cancelled'), ('items', 'cancelled'), ('list', 'failed')$$,
                  'run 4: the task before the type violation completed, the ones after it did not (cancelled with the run)');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages WHERE topic = 'pgflow:run:' || pg_temp.run('bbbbbbbb', 5)),
          ARRAY['run:started', 'step:a:started', 'step:a:completed', 'step:m:completed', 'step:z:started',
                'step:z:completed', 'run:completed'],
          'run 5: completion, cascade, next step, run completion, in that order');

-- 3. The bulk path: the tasks that only count down do not go through complete_task.
SET track_functions = 'pl';
SELECT pgflow.start_flow('ct_map', (SELECT jsonb_agg(i) FROM generate_series(1, 8) AS i), '00000000-0000-0000-0000-0000000000c3');
SELECT pg_temp.claim('00000000');
BEGIN;
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(
             ARRAY(SELECT '00000000-0000-0000-0000-0000000000c3'::uuid FROM generate_series(0, 7)),
             array_fill('items'::text, ARRAY[8]), ARRAY(SELECT generate_series(7, 0, -1)),
             ARRAY(SELECT to_jsonb(i) FROM generate_series(7, 0, -1) AS i))),
          8::bigint, 'a batch of all 8 tasks of a map returns 8 rows');
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'complete_task'), 1::bigint,
          'only the task that completes the step went through complete_task');
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'pgmq.archive(text,bigint[])'::regprocedure), 2::bigint,
          'two archive calls: that task''s message on its own, the other seven together');
COMMIT;
SELECT results_eq($$SELECT status, remaining_tasks, (SELECT output FROM pgflow.step_tasks WHERE run_id = s.run_id AND step_slug = 'sum')
                    FROM pgflow.step_states AS s WHERE run_id = '00000000-0000-0000-0000-0000000000c3' AND step_slug = 'items'$$,
                  $$VALUES ('completed', 0, NULL::jsonb)$$, 'the map step completed');
SELECT is((SELECT payload->'output' FROM realtime.messages
           WHERE topic = 'pgflow:run:00000000-0000-0000-0000-0000000000c3' AND event = 'step:items:completed'),
          '[0, 1, 2, 3, 4, 5, 6, 7]'::jsonb, 'with every output in task order');
SELECT is(pgflow_tests.archived_ids('ct_map') @> ARRAY(SELECT message_id FROM pgflow.step_tasks
                                                        WHERE run_id = '00000000-0000-0000-0000-0000000000c3' AND step_slug = 'items'),
          true, 'and every message archived');
RESET track_functions;

-- 4. Arguments.
SELECT is((SELECT count(*) FROM pgflow.complete_tasks('{}', '{}', '{}', '{}')), 0::bigint, 'an empty batch does nothing');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(NULL, NULL, NULL, NULL)), 0::bigint, 'NULL arrays are an empty batch');
SELECT throws_ok($$SELECT pgflow.complete_tasks(ARRAY['00000000-0000-0000-0000-0000000000c3'::uuid], ARRAY['items', 'sum'], ARRAY[0], ARRAY['1'::jsonb])$$,
                 '22023', 'complete_tasks: run_ids, step_slugs, task_indexes and outputs must be one-dimensional arrays of the same length (got 1, 2, 1, 1)',
                 'arrays of different lengths are refused');
SELECT throws_ok($$SELECT pgflow.complete_tasks(ARRAY[['00000000-0000-0000-0000-0000000000c3'::uuid]], ARRAY['items'], ARRAY[0], ARRAY['1'::jsonb])$$,
                 '22023', 'complete_tasks: run_ids, step_slugs, task_indexes and outputs must be one-dimensional arrays of the same length (got 1, 1, 1, 1)',
                 'a two-dimensional array is refused');

-- 5. Two sessions completing tasks of the same step at once (a re-claimed task reported twice):
--    the second batch waits for the first, then finds its task completed and counts nothing twice.
SELECT pgflow.start_flow('ct_map', '[1, 2, 3, 4]', '00000000-0000-0000-0000-0000000000c5');
SELECT pg_temp.claim('00000000');
SELECT dblink_connect('other', pgflow_tests.dblink_connstr());
BEGIN;
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(array_fill('00000000-0000-0000-0000-0000000000c5'::uuid, ARRAY[2]),
                                                      ARRAY['items', 'items'], ARRAY[0, 1], ARRAY['"s1"'::jsonb, '"s1"'])),
          2::bigint, 'session 1 completes tasks 0 and 1 (not yet committed)');
SELECT dblink_send_query('other', $$SELECT count(*) FROM pgflow.complete_tasks(array_fill('00000000-0000-0000-0000-0000000000c5'::uuid, ARRAY[3]),
                                                                              ARRAY['items', 'items', 'items'], ARRAY[1, 2, 3],
                                                                              ARRAY['"s2"'::jsonb, '"s2"', '"s2"'])$$);
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('other'), 1, 'session 2''s batch on the same step waits for session 1');
COMMIT;
SELECT is((SELECT n FROM dblink_get_result('other') AS r(n bigint)), 3::bigint, 'then completes: three rows');
SELECT results_eq($$SELECT task_index, output FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-0000000000c5' AND step_slug = 'items' ORDER BY task_index$$,
                  $$VALUES (0, '"s1"'::jsonb), (1, '"s1"'), (2, '"s2"'), (3, '"s2"')$$,
                  'task 1 kept session 1''s output; session 2 completed tasks 2 and 3');
SELECT results_eq($$SELECT status, remaining_tasks FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-0000000000c5' AND step_slug = 'items'$$,
                  $$VALUES ('completed', 0)$$, 'the step completed once, its counter at 0');
SELECT dblink_disconnect('other');

SELECT * FROM finish();
