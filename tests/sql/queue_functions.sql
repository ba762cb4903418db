-- The built-in pgmq-compatible queue: pgmq 1.5.1's functions, types and tables.
SELECT plan(66);

-- Types.
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'pgmq.message_record'::regtype)),
          ARRAY['msg_id', 'read_ct', 'enqueued_at', 'vt', 'message', 'headers'], 'message_record has pgmq 1.5 attributes (headers last)');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'pgmq.queue_record'::regtype)),
          ARRAY['queue_name', 'is_partitioned', 'is_unlogged', 'created_at'], 'queue_record attributes');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'pgmq.metrics_result'::regtype)),
          ARRAY['queue_name', 'queue_length', 'newest_msg_age_sec', 'oldest_msg_age_sec', 'total_messages',
                'scrape_time', 'queue_visible_length'], 'metrics_result attributes');

-- format_table_name / validate_queue_name.
SELECT is(pgmq.format_table_name('MyQueue', 'q'), 'q_myqueue', 'format_table_name lower-cases prefix_name');
SELECT throws_ok($$SELECT pgmq.format_table_name('bad;name', 'q')$$, 'P0001',
                 'queue name contains invalid characters: $, ;, --, or \''', 'format_table_name rejects ;');
SELECT throws_ok($$SELECT pgmq.format_table_name('bad--name', 'q')$$, 'P0001',
                 'queue name contains invalid characters: $, ;, --, or \''', 'format_table_name rejects --');
SELECT throws_ok($$SELECT pgmq.format_table_name('bad$name', 'q')$$, 'P0001',
                 'queue name contains invalid characters: $, ;, --, or \''', 'format_table_name rejects $');
SELECT throws_ok($$SELECT pgmq.format_table_name('bad''name', 'q')$$, 'P0001',
                 'queue name contains invalid characters: $, ;, --, or \''', 'format_table_name rejects a quote');
SELECT lives_ok($$SELECT pgmq.validate_queue_name(repeat('a', 47))$$, 'validate_queue_name accepts 47 characters');
SELECT throws_ok($$SELECT pgmq.validate_queue_name(repeat('a', 48))$$, 'P0001',
                 'queue name is too long, maximum length is 48 characters', 'validate_queue_name rejects 48 characters');

-- create / list_queues / idempotency.
SELECT lives_ok($$SELECT pgmq.create('Jobs')$$, 'create makes a queue');
SELECT lives_ok($$SELECT pgmq.create('Jobs')$$, 'create is idempotent');
SELECT has_table('pgmq', 'q_jobs', 'the message table is pgmq.q_<lower-cased name>');
SELECT has_table('pgmq', 'a_jobs', 'the archive table is pgmq.a_<lower-cased name>');
SELECT has_index('pgmq', 'q_jobs', 'q_jobs_vt_idx', 'q_<name>_vt_idx exists');
SELECT has_index('pgmq', 'a_jobs', 'archived_at_idx_Jobs', 'archived_at_idx_<name as given> exists');
SELECT is((SELECT array_agg(queue_name::text || ':' || is_partitioned || ':' || is_unlogged) FROM pgmq.list_queues()),
          ARRAY['Jobs:false:false'], 'list_queues shows the queue once, with its original spelling');
SELECT throws_ok($$SELECT pgmq.create(repeat('x', 48))$$, 'P0001',
                 'queue name is too long, maximum length is 48 characters', 'create rejects long names');
SELECT lives_ok($$SELECT pgmq.create_unlogged('fast')$$, 'create_unlogged makes a queue');
SELECT is((SELECT relpersistence::text FROM pg_class WHERE oid = 'pgmq.q_fast'::regclass), 'u', 'its message table is unlogged');

-- send, all six forms.
SELECT is((SELECT pgmq.send('jobs', '{"n": 1}')), 1::bigint, 'send(q, msg) returns the first msg_id');
SELECT is((SELECT pgmq.send('jobs', '{"n": 2}', '{"h": 2}'::jsonb)), 2::bigint, 'send(q, msg, headers)');
SELECT is((SELECT pgmq.send('jobs', '{"n": 3}', 30)), 3::bigint, 'send(q, msg, delay int)');
SELECT is((SELECT pgmq.send('jobs', '{"n": 4}', clock_timestamp() + interval '1 hour')), 4::bigint, 'send(q, msg, delay timestamptz)');
SELECT is((SELECT pgmq.send('jobs', '{"n": 5}', '{"h": 5}'::jsonb, 60)), 5::bigint, 'send(q, msg, headers, delay int)');
SELECT is((SELECT pgmq.send('jobs', '{"n": 6}', '{"h": 6}'::jsonb, clock_timestamp() + interval '2 hours')), 6::bigint,
          'send(q, msg, headers, delay timestamptz)');
SELECT results_eq(
  $$SELECT msg_id, headers, round(extract(epoch FROM vt - enqueued_at) / 10) * 10 FROM pgmq.q_jobs ORDER BY msg_id$$,
  $$VALUES (1::bigint, NULL::jsonb, 0::numeric), (2, '{"h": 2}', 0), (3, NULL, 30), (4, NULL, 3600),
           (5, '{"h": 5}', 60), (6, '{"h": 6}', 7200)$$,
  'send stores headers and visibility delays');
SELECT throws_ok($$SELECT pgmq.send('nosuchqueue', '{}')$$, '42P01', 'relation "pgmq.q_nosuchqueue" does not exist',
                 'send to an unknown queue names the missing table');

-- read: visible only, oldest first, qty, vt and read_ct, conditional.
SELECT results_eq($$SELECT msg_id, read_ct, message FROM pgmq.read('jobs', 10, 5)$$,
                  $$VALUES (1::bigint, 1, '{"n": 1}'::jsonb), (2, 1, '{"n": 2}')$$,
                  'read returns only visible messages, oldest first, with read_ct incremented');
SELECT ok((SELECT bool_and(vt > clock_timestamp() + interval '9 seconds') FROM pgmq.q_jobs WHERE msg_id IN (1, 2)),
          'read hides what it returned for vt seconds');
SELECT is((SELECT count(*) FROM pgmq.read('jobs', 10, 5)), 0::bigint, 'hidden messages are not read again');
UPDATE pgmq.q_jobs SET vt = clock_timestamp() - interval '1 second';
SELECT results_eq($$SELECT msg_id FROM pgmq.read('jobs', 0, 2) ORDER BY msg_id$$, $$VALUES (1::bigint), (2::bigint)$$,
                  'read respects qty');
UPDATE pgmq.q_jobs SET vt = clock_timestamp() - interval '1 second';
SELECT results_eq($$SELECT msg_id FROM pgmq.read('jobs', 0, 10, '{"n": 4}')$$, $$VALUES (4::bigint)$$,
                  'read with a conditional returns only messages containing it');
SELECT results_eq($$SELECT headers FROM pgmq.read('jobs', 0, 10, '{"n": 5}')$$, $$VALUES ('{"h": 5}'::jsonb)$$,
                  'read returns headers');

-- read_with_poll: immediate when something is visible, waits max_poll_seconds otherwise.
SELECT results_eq($$SELECT msg_id FROM pgmq.read_with_poll('jobs', 30, 1, 5, 100)$$, $$VALUES (1::bigint)$$,
                  'read_with_poll returns at once when a message is visible');
SELECT pgmq.create('empty');
CREATE TEMP TABLE poll_timing AS SELECT clock_timestamp() AS t0;
SELECT is((SELECT count(*) FROM pgmq.read_with_poll('empty', 30, 1, 1, 50)), 0::bigint,
          'read_with_poll on an empty queue returns nothing');
SELECT ok((SELECT clock_timestamp() - t0 BETWEEN interval '0.9 seconds' AND interval '3 seconds' FROM poll_timing),
          'read_with_poll waited about max_poll_seconds before giving up');

-- set_vt.
SELECT results_eq($$SELECT msg_id, read_ct FROM pgmq.set_vt('jobs', 2, 100)$$, $$VALUES (2::bigint, 2)$$,
                  'set_vt returns the updated message');
SELECT ok((SELECT vt BETWEEN clock_timestamp() + interval '99 seconds' AND clock_timestamp() + interval '101 seconds'
           FROM pgmq.q_jobs WHERE msg_id = 2), 'set_vt sets vt = clock_timestamp() + vt seconds');
SELECT is((SELECT count(*) FROM pgmq.set_vt('jobs', 999, 10)), 0::bigint, 'set_vt of an unknown id returns nothing');

-- archive (single, array), delete (single, array).
SELECT is(pgmq.archive('jobs', 1::bigint), true, 'archive(q, id) returns true for an existing message');
SELECT is(pgmq.archive('jobs', 1::bigint), false, 'archive(q, id) returns false when it is gone');
SELECT results_eq($$SELECT msg_id, read_ct, message FROM pgmq.a_jobs$$, $$VALUES (1::bigint, 3, '{"n": 1}'::jsonb)$$,
                  'the archived row keeps read_ct and message');
SELECT results_eq($$SELECT * FROM pgmq.archive('jobs', ARRAY[2, 3, 999]::bigint[]) ORDER BY 1$$,
                  $$VALUES (2::bigint), (3::bigint)$$, 'archive(q, ids) returns the ids moved, skipping unknown ones');
SELECT is(pgmq.delete('jobs', 4::bigint), true, 'delete(q, id) returns true for an existing message');
SELECT is(pgmq.delete('jobs', 4::bigint), false, 'delete(q, id) returns false when it is gone');
SELECT results_eq($$SELECT * FROM pgmq.delete('jobs', ARRAY[5, 999]::bigint[])$$, $$VALUES (5::bigint)$$,
                  'delete(q, ids) returns the ids deleted');
SELECT is((SELECT count(*) FROM pgmq.a_jobs WHERE msg_id IN (4, 5)), 0::bigint, 'deleted messages are not archived');

-- send_batch, all six forms, ids in array order.
SELECT results_eq($$SELECT * FROM pgmq.send_batch('empty', ARRAY['{"i": 0}', '{"i": 1}', '{"i": 2}']::jsonb[])$$,
                  $$VALUES (1::bigint), (2::bigint), (3::bigint)$$, 'send_batch(q, msgs) returns ids in array order');
SELECT is((SELECT array_agg(message->>'i' ORDER BY msg_id) FROM pgmq.q_empty), ARRAY['0', '1', '2'],
          'send_batch stores the messages in array order');
SELECT is((SELECT count(*) FROM pgmq.send_batch('empty', ARRAY['{}', '{}']::jsonb[], ARRAY['{"h": 1}']::jsonb[])), 2::bigint,
          'send_batch(q, msgs, headers)');
SELECT is((SELECT count(*) FROM pgmq.send_batch('empty', ARRAY['{}']::jsonb[], 45)), 1::bigint, 'send_batch(q, msgs, delay int)');
SELECT is((SELECT count(*) FROM pgmq.send_batch('empty', ARRAY['{}']::jsonb[], clock_timestamp())), 1::bigint,
          'send_batch(q, msgs, delay timestamptz)');
SELECT is((SELECT count(*) FROM pgmq.send_batch('empty', ARRAY['{}']::jsonb[], ARRAY['{}']::jsonb[], 45)), 1::bigint,
          'send_batch(q, msgs, headers, delay int)');
SELECT is((SELECT count(*) FROM pgmq.send_batch('empty', ARRAY['{}']::jsonb[], ARRAY['{}']::jsonb[], clock_timestamp())), 1::bigint,
          'send_batch(q, msgs, headers, delay timestamptz)');
SELECT results_eq($$SELECT msg_id, headers FROM pgmq.q_empty WHERE msg_id IN (4, 5) ORDER BY msg_id$$,
                  $$VALUES (4::bigint, '{"h": 1}'::jsonb), (5, NULL)$$, 'send_batch pairs headers with messages, NULL when absent');

-- pop, purge_queue, metrics, metrics_all, drop_queue.
SELECT pgmq.create('popq');
SELECT pgmq.send('popq', '{"p": 1}');
SELECT pgmq.send('popq', '{"p": 2}');
SELECT pgmq.send('popq', '{"p": 3}', 600);
SELECT results_eq($$SELECT msg_id, message FROM pgmq.pop('popq')$$, $$VALUES (1::bigint, '{"p": 1}'::jsonb)$$,
                  'pop returns the oldest visible message');
SELECT is((SELECT count(*) FROM pgmq.q_popq WHERE msg_id = 1) + (SELECT count(*) FROM pgmq.a_popq), 0::bigint,
          'pop deletes it without archiving');
SELECT results_eq($$SELECT queue_name, queue_length, queue_visible_length, total_messages FROM pgmq.metrics('popq')$$,
                  $$VALUES ('popq'::text, 2::bigint, 1::bigint, 3::bigint)$$,
                  'metrics counts messages, visible messages and messages ever sent');
SELECT ok((SELECT oldest_msg_age_sec >= 0 AND newest_msg_age_sec >= 0 AND scrape_time IS NOT NULL FROM pgmq.metrics('popq')),
          'metrics reports message ages and scrape time');
SELECT is((SELECT array_agg(queue_name ORDER BY queue_name COLLATE "C") FROM pgmq.metrics_all()),
          ARRAY['Jobs', 'empty', 'fast', 'popq'], 'metrics_all covers every queue');
SELECT is(pgmq.purge_queue('popq'), 2::bigint, 'purge_queue returns how many messages it deleted');
SELECT is((SELECT count(*) FROM pgmq.q_popq), 0::bigint, 'purge_queue empties the queue');
SELECT is(pgmq.drop_queue('popq'), true, 'drop_queue returns true');
SELECT ok(to_regclass('pgmq.q_popq') IS NULL AND to_regclass('pgmq.a_popq') IS NULL
          AND NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = 'popq'),
          'drop_queue removes both tables and the registry row');
SELECT is(pgmq.drop_queue('fast', false), true, 'the deprecated drop_queue(name, partitioned) still drops');

SELECT * FROM finish();
