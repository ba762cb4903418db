-- set_vt_batch: one UPDATE giving each listed message its own visibility offset.
SELECT plan(9);

SELECT pgmq.create('vtq');
SELECT pgmq.send_batch('vtq', ARRAY['{"i": 1}', '{"i": 2}', '{"i": 3}']::jsonb[]);

SELECT is((SELECT count(*) FROM pgflow.set_vt_batch('vtq', NULL, ARRAY[1])), 0::bigint, 'NULL msg_ids: empty result');
SELECT is((SELECT count(*) FROM pgflow.set_vt_batch('vtq', ARRAY[1]::bigint[], NULL)), 0::bigint, 'NULL vt_offsets: empty result');
SELECT is((SELECT count(*) FROM pgflow.set_vt_batch('vtq', '{}', '{}')), 0::bigint, 'empty msg_ids: empty result');
SELECT throws_ok($$SELECT * FROM pgflow.set_vt_batch('vtq', ARRAY[1, 2]::bigint[], ARRAY[5])$$, 'P0001',
                 'msg_ids length (2) must equal vt_offsets length (1)', 'arrays of different lengths are rejected');
SELECT throws_ok($$SELECT * FROM pgflow.set_vt_batch('novtq', ARRAY[1]::bigint[], ARRAY[5])$$, '42P01',
                 'relation "pgmq.q_novtq" does not exist', 'an unknown queue names the missing table');
SELECT results_eq($$SELECT msg_id, read_ct, message FROM pgflow.set_vt_batch('vtq', ARRAY[1, 3, 99]::bigint[], ARRAY[100, 300, 5]) ORDER BY msg_id$$,
                  $$VALUES (1::bigint, 0, '{"i": 1}'::jsonb), (3, 0, '{"i": 3}')$$,
                  'it returns the updated messages, skipping unknown ids, read_ct unchanged');
SELECT ok((SELECT vt BETWEEN clock_timestamp() + interval '99 s' AND clock_timestamp() + interval '100 s' FROM pgmq.q_vtq WHERE msg_id = 1),
          'message 1 is hidden for its own offset (100 s)');
SELECT ok((SELECT vt BETWEEN clock_timestamp() + interval '299 s' AND clock_timestamp() + interval '300 s' FROM pgmq.q_vtq WHERE msg_id = 3),
          'message 3 is hidden for its own offset (300 s)');
SELECT ok((SELECT vt <= clock_timestamp() FROM pgmq.q_vtq WHERE msg_id = 2), 'an unlisted message is untouched');

SELECT * FROM finish();
