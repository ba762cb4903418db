-- Large map inputs read by chunk (sql/pgflow/0228_map_input_chunks.sql): a claim of map tasks whose
-- source array is 64 kB or more copies the array once into pgflow_cpp.map_input_chunks and takes
-- each task's element from its chunk; the inputs are the same as pgflow 0.8.1's.
SELECT plan(21);

SELECT pgflow.create_flow('big');
SELECT pgflow.add_step('big', 'each', step_type => 'map');
SELECT pgflow.create_flow('fed');
SELECT pgflow.add_step('fed', 'src');
SELECT pgflow.add_step('fed', 'each', ARRAY['src'], step_type => 'map');
SELECT pgflow.add_step('fed', 'again', ARRAY['each'], step_type => 'map');
SELECT pgflow_tests.ensure_worker('big');
SELECT pgflow_tests.ensure_worker('big', '22222222-2222-2222-2222-222222222222');

-- 3,000 elements that do not compress to nothing (md5 text): well over 64 kB stored.
CREATE FUNCTION pg_temp.large_array(n integer) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_agg(jsonb_build_object('i', i, 'h', md5(i::text), 'g', md5((i * 7)::text)) ORDER BY i)
  FROM generate_series(0, n - 1) AS i
$$;
CREATE FUNCTION pg_temp.msgs(run uuid, step text, indexes integer[]) RETURNS bigint[] LANGUAGE sql AS $$
  SELECT array_agg(t.message_id ORDER BY t.task_index) FROM pgflow.step_tasks AS t
  WHERE t.run_id = run AND t.step_slug = step AND t.task_index = ANY (indexes)
$$;
CREATE FUNCTION pg_temp.chunks(run uuid, step text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pgflow_cpp.map_input_chunks AS k WHERE k.run_id = run AND k.step_slug = step
$$;

CREATE TEMP TABLE arr AS SELECT pg_temp.large_array(3000) AS a;
SELECT ok((SELECT pg_column_size(a) FROM arr) >= 65536, 'the test array is stored as 64 kB or more');
SELECT pgflow.start_flow('big', (SELECT a FROM arr), '00000000-0000-0000-0000-00000000b001');
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000b001', 'each'), 0::bigint, 'starting the run chunks nothing');

-- Elements at chunk boundaries, the first and the last.
CREATE TEMP TABLE got AS
SELECT * FROM pgflow.start_tasks('big', pg_temp.msgs('00000000-0000-0000-0000-00000000b001', 'each', '{0,99,100,1999,2999}'),
                                 pgflow_tests.worker_id());
SELECT results_eq($$SELECT task_index, input FROM got ORDER BY task_index$$,
                  $$SELECT i, (SELECT a FROM arr) -> i FROM unnest('{0,99,100,1999,2999}'::int[]) AS i ORDER BY i$$,
                  'each claimed task''s input is its element of the run input');
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000b001', 'each'), 30::bigint, 'the first claim chunked the array: 30 chunks of 100');
SELECT is((SELECT array_agg(DISTINCT jsonb_array_length(elements)) FROM pgflow_cpp.map_input_chunks), '{100}'::int[],
          'of 100 elements each');
SELECT is((SELECT jsonb_agg(e ORDER BY k.chunk, o) FROM pgflow_cpp.map_input_chunks AS k,
           jsonb_array_elements(k.elements) WITH ORDINALITY AS x(e, o)), (SELECT a FROM arr),
          'the chunks in order are the array');

SELECT string_agg(chunk || ':' || xmin, ',' ORDER BY chunk) AS first_chunks FROM pgflow_cpp.map_input_chunks \gset
DROP TABLE got;
-- pgmq.read reads at most 1,000 messages at a time.
CREATE TEMP TABLE got AS SELECT * FROM pgflow_cpp.read_and_start_tasks('big', 30, 1000, pgflow_tests.worker_id());
INSERT INTO got SELECT * FROM pgflow_cpp.read_and_start_tasks('big', 30, 1000, pgflow_tests.worker_id());
INSERT INTO got SELECT * FROM pgflow_cpp.read_and_start_tasks('big', 30, 1000, pgflow_tests.worker_id());
SELECT is((SELECT count(*) FROM got), 2995::bigint, 'read_and_start_tasks claims the other 2,995 tasks');
SELECT ok((SELECT bool_and(g.input = (SELECT a FROM arr) -> g.task_index) FROM got AS g),
          'with their elements as inputs');
SELECT is((SELECT string_agg(chunk || ':' || xmin, ',' ORDER BY chunk) FROM pgflow_cpp.map_input_chunks), :'first_chunks',
          'later claims read the chunks, never copy again');

-- A small array is read whole, as before: no chunks.
SELECT pgflow.start_flow('big', '[1, 2, 3]', '00000000-0000-0000-0000-00000000b002');
SELECT results_eq($$SELECT task_index, input FROM pgflow_cpp.read_and_start_tasks('big', 30, 10, pgflow_tests.worker_id()) ORDER BY task_index$$,
                  $$VALUES (0, '1'::jsonb), (1, '2'), (2, '3')$$, 'a small root map''s tasks get their elements');
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000b002', 'each'), 0::bigint, 'and nothing is chunked');

-- A map fed by a single step's large output; the map over that map reads its parent's tasks.
SELECT pgflow_tests.ensure_worker('fed');
SELECT pgflow.start_flow('fed', '{}', '00000000-0000-0000-0000-00000000f001');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, (SELECT a FROM arr))
FROM pgflow_tests.read_and_start('fed', 30, 10) AS t;
CREATE TEMP TABLE fed AS SELECT * FROM pgflow_cpp.read_and_start_tasks('fed', 30, 1000, pgflow_tests.worker_id());
INSERT INTO fed SELECT * FROM pgflow_cpp.read_and_start_tasks('fed', 30, 1000, pgflow_tests.worker_id());
INSERT INTO fed SELECT * FROM pgflow_cpp.read_and_start_tasks('fed', 30, 1000, pgflow_tests.worker_id());
SELECT is((SELECT count(*) FROM fed), 3000::bigint, 'the dependent map has 3,000 tasks');
SELECT ok((SELECT bool_and(f.input = (SELECT a FROM arr) -> f.task_index) FROM fed AS f),
          'each gets its element of the dependency''s output');
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000f001', 'each'), 30::bigint, 'which was chunked');
SELECT is((SELECT count(*) FROM pgflow.complete_tasks(
             (SELECT array_agg(run_id) FROM fed), (SELECT array_agg(step_slug) FROM fed),
             (SELECT array_agg(task_index) FROM fed), (SELECT array_agg(to_jsonb(task_index)) FROM fed))),
          3000::bigint, 'completing them starts the map over the map');
SELECT ok((SELECT bool_and(t.input = to_jsonb(t.task_index)) AND count(*) = 1000
           FROM pgflow_cpp.read_and_start_tasks('fed', 30, 1000, pgflow_tests.worker_id()) AS t),
          'whose tasks get their parent tasks'' outputs');
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000f001', 'again'), 0::bigint, 'without chunks');

-- Two sessions claiming tasks of a fresh large map at once: one copies, the other waits for it and
-- copies nothing; both get the right inputs.
SELECT pgflow.start_flow('big', (SELECT a FROM arr), '00000000-0000-0000-0000-00000000b003');
SELECT dblink_connect('w2', pgflow_tests.dblink_connstr());
BEGIN;
CREATE TEMP TABLE mine AS
SELECT * FROM pgflow.start_tasks('big', pg_temp.msgs('00000000-0000-0000-0000-00000000b003', 'each', '{5}'), pgflow_tests.worker_id());
SELECT dblink_send_query('w2', format(
  $$SELECT task_index, input::text FROM pgflow.start_tasks('big', %L, '22222222-2222-2222-2222-222222222222')$$,
  pg_temp.msgs('00000000-0000-0000-0000-00000000b003', 'each', '{6,2500}')));
SELECT pg_sleep(0.3);
SELECT is(dblink_is_busy('w2'), 1, 'the second claim waits on the first one''s chunks');
COMMIT;
SELECT results_eq($$SELECT task_index, input::jsonb FROM dblink_get_result('w2') AS t(task_index integer, input text) ORDER BY 1$$,
                  $$SELECT i, (SELECT a FROM arr) -> i FROM unnest('{6,2500}'::int[]) AS i ORDER BY i$$,
                  'then claims its tasks with their elements');
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000b003', 'each'), 30::bigint, 'the array was chunked once');
SELECT dblink_disconnect('w2');

-- The chunks go with their run.
DELETE FROM pgflow.step_tasks WHERE run_id = '00000000-0000-0000-0000-00000000b003';
DELETE FROM pgflow.step_states WHERE run_id = '00000000-0000-0000-0000-00000000b003';
DELETE FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000b003';
SELECT is(pg_temp.chunks('00000000-0000-0000-0000-00000000b003', 'each'), 0::bigint, 'deleting a run deletes its chunks');

SELECT * FROM finish();
