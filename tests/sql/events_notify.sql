-- Every run event is also NOTIFY'd on channel pgflow:run:<run_id> (payload = pgflow's payload plus
-- "event"), trimmed when too large for NOTIFY; starting steps whose messages are visible at once
-- NOTIFYs pgflow:queue:<flow_slug>. A second session (dblink) LISTENs and reads what arrives
-- after this session's commits.
SELECT plan(26);

SELECT pgflow.create_flow('notes');
SELECT pgflow.add_step('notes', 'a');
SELECT pgflow.add_step('notes', 'b');
SELECT pgflow.add_step('notes', 'big', ARRAY['a', 'b']);
SELECT pgflow.add_step('notes', 'later', ARRAY['big'], start_delay => 60);
SELECT pgflow_tests.ensure_worker('notes');

SELECT dblink_connect('listener', pgflow_tests.dblink_connstr());
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c001"');
SELECT dblink_exec('listener', 'LISTEN "pgflow:queue:notes"');

-- Nothing is delivered before commit.
BEGIN;
SELECT pgflow.start_flow('notes', '{"hello": "world"}', '00000000-0000-0000-0000-00000000c001');
SELECT is((SELECT count(*) FROM pgflow_tests.wait_notifications('listener', 1, 0.3)), 0::bigint,
          'notifications are not delivered before the transaction commits');
COMMIT;

CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 4);
SELECT is((SELECT array_agg(channel ORDER BY seq) FROM got),
          ARRAY['pgflow:run:00000000-0000-0000-0000-00000000c001', 'pgflow:run:00000000-0000-0000-0000-00000000c001',
                'pgflow:run:00000000-0000-0000-0000-00000000c001', 'pgflow:queue:notes'],
          'start_flow: three run notifications then one queue wake-up (one per call, not per step)');
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY seq) FILTER (WHERE channel LIKE 'pgflow:run:%') FROM got),
          ARRAY['run:started', 'step:a:started', 'step:b:started'], 'run notifications name the realtime event');
SELECT is((SELECT payload::jsonb - 'started_at' FROM got WHERE seq = 1),
          '{"event": "run:started", "event_type": "run:started", "run_id": "00000000-0000-0000-0000-00000000c001",
            "flow_slug": "notes", "input": {"hello": "world"}, "status": "started", "remaining_steps": 4}'::jsonb,
          'the payload is pgflow''s event payload plus "event"');
SELECT is((SELECT payload FROM got WHERE channel = 'pgflow:queue:notes'), '', 'the queue wake-up payload is empty');

-- A large output is trimmed to what a client needs to re-read the row.
SELECT pgflow.start_tasks('notes', ARRAY(SELECT message_id FROM pgflow.step_tasks), pgflow_tests.worker_id());
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000c001', 'a', 0, '"small"');
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 1);
SELECT is((SELECT payload::jsonb - 'completed_at' FROM got),
          '{"event": "step:a:completed", "event_type": "step:completed", "run_id": "00000000-0000-0000-0000-00000000c001",
            "step_slug": "a", "status": "completed", "output": "small"}'::jsonb,
          'a small step:completed notification carries the output');
SELECT pgflow.complete_task('00000000-0000-0000-0000-00000000c001', 'b', 0, to_jsonb(repeat('x', 10000)));
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 3);
SELECT is((SELECT array_agg(CASE WHEN channel LIKE 'pgflow:queue:%' THEN channel ELSE payload::jsonb->>'event' END ORDER BY seq) FROM got),
          ARRAY['step:b:completed', 'step:big:started', 'pgflow:queue:notes'],
          'completing b notifies step:b:completed, step:big:started and wakes the queue');
SELECT is((SELECT payload::jsonb - 'completed_at' FROM got WHERE seq = 1),
          '{"event": "step:b:completed", "event_type": "step:completed", "run_id": "00000000-0000-0000-0000-00000000c001",
            "step_slug": "b", "status": "completed", "trimmed": true}'::jsonb,
          'a payload over the NOTIFY limit drops output and says "trimmed": true');
SELECT ok((SELECT (payload::jsonb ? 'completed_at') AND octet_length(payload) < 8000 FROM got WHERE seq = 1),
          'the trimmed payload keeps the timestamps and fits');

-- A payload stored in over 256 kB is trimmed without being written out as text first.
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c002"');
SELECT pgflow_cpp.broadcast(jsonb_build_object('event_type', 'run:completed', 'status', 'completed',
                                               'output', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i)),
                            'run:completed', '00000000-0000-0000-0000-00000000c002');
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 1);
SELECT is((SELECT payload::jsonb FROM got),
          '{"event": "run:completed", "event_type": "run:completed", "status": "completed", "trimmed": true}'::jsonb,
          'a payload stored in over 256 kB is trimmed like any payload over the NOTIFY limit');

-- A delayed step does not wake workers.
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '1') FROM pgflow_tests.read_and_start('notes') t;
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 3, 1);
SELECT is((SELECT array_agg(CASE WHEN channel LIKE 'pgflow:queue:%' THEN channel ELSE payload::jsonb->>'event' END ORDER BY seq) FROM got),
          ARRAY['step:big:completed', 'step:later:started'],
          'starting a step whose messages are delayed sends no queue wake-up');

-- Completion and failure notifications.
SELECT pgflow_tests.make_visible('notes');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '{"end": 1}') FROM pgflow_tests.read_and_start('notes') t;
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 2);
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY seq) FROM got), ARRAY['step:later:completed', 'run:completed'],
          'the last completion notifies step:completed then run:completed');
SELECT is((SELECT payload::jsonb->'output' FROM got WHERE seq = 2), '{"later": {"end": 1}}'::jsonb,
          'run:completed carries the run output');

SELECT pgflow.create_flow('notes_fail', max_attempts => 1);
SELECT pgflow.add_step('notes_fail', 'x');
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c002"');
SELECT pgflow.start_flow('notes_fail', '{}', '00000000-0000-0000-0000-00000000c002');
SELECT pgflow.fail_task(t.run_id, t.step_slug, t.task_index, 'broken') FROM pgflow_tests.read_and_start('notes_fail') t;
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 4);
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY seq) FILTER (WHERE channel LIKE 'pgflow:run:%') FROM got),
          ARRAY['run:started', 'step:x:started', 'step:x:failed', 'run:failed'], 'a failure notifies step:failed then run:failed');
SELECT is((SELECT payload::jsonb->>'error_message' FROM got WHERE payload LIKE '%"run:failed"%'), 'broken',
          'run:failed carries the error message');

-- A map's step:completed carries its tasks' outputs in task order. When they are stored in over
-- 256 kB (more than a notification can carry), it says "trimmed" without aggregating them, and the
-- run output still holds them all.
SELECT pgflow.create_flow('notes_map');
SELECT pgflow.add_step('notes_map', 'm', step_type => 'map');
SELECT pgflow_tests.ensure_worker('notes_map');
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c004"');
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c005"');
SELECT pgflow.start_flow('notes_map', '[1, 2]', '00000000-0000-0000-0000-00000000c004');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, to_jsonb(t.task_index * 10))
FROM pgflow_tests.read_and_start('notes_map', qty => 10) AS t;
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 4);
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY seq) FROM got),
          ARRAY['run:started', 'step:m:started', 'step:m:completed', 'run:completed'],
          'a map run notifies run:started, step:m:started, step:m:completed, run:completed');
SELECT is((SELECT payload::jsonb->'output' FROM got WHERE seq = 3), '[0, 10]'::jsonb,
          'a small map''s step:completed carries its tasks'' outputs in task order');
SELECT pgflow.start_flow('notes_map', '[1, 2, 3]', '00000000-0000-0000-0000-00000000c005');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index,
                            to_jsonb(ARRAY(SELECT md5(g::text || t.task_index) FROM generate_series(1, 10000) AS g)))
FROM pgflow_tests.read_and_start('notes_map', qty => 10) AS t;
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 4);
SELECT cmp_ok((SELECT sum(pg_column_size(t.output)) FROM pgflow.step_tasks AS t
               WHERE t.run_id = '00000000-0000-0000-0000-00000000c005')::numeric, '>', 262144::numeric,
              'the big map''s task outputs are stored in over 256 kB');
SELECT is((SELECT payload::jsonb - 'completed_at' FROM got WHERE seq = 3),
          '{"event": "step:m:completed", "event_type": "step:completed", "run_id": "00000000-0000-0000-0000-00000000c005",
            "step_slug": "m", "status": "completed", "trimmed": true}'::jsonb,
          'a map whose outputs are stored in over 256 kB announces step:completed "trimmed"');
SELECT is((SELECT r.output->'m' FROM pgflow.runs AS r WHERE r.run_id = '00000000-0000-0000-0000-00000000c005'),
          (SELECT to_jsonb(array_agg(t.output ORDER BY t.task_index)) FROM pgflow.step_tasks AS t
           WHERE t.run_id = '00000000-0000-0000-0000-00000000c005'),
          'the big map''s run output holds every task output in task order');

-- With realtime.send present, the event goes both ways.
\ir fixtures/realtime_stand_in.sql
SELECT dblink_exec('listener', 'LISTEN "pgflow:run:00000000-0000-0000-0000-00000000c003"');
SELECT pgflow.start_flow('notes_fail', '{}', '00000000-0000-0000-0000-00000000c003');
DROP TABLE got;
CREATE TEMP TABLE got AS SELECT * FROM pgflow_tests.wait_notifications('listener', 2);
SELECT is((SELECT array_agg(payload::jsonb->>'event' ORDER BY seq) FILTER (WHERE channel LIKE 'pgflow:run:%') FROM got),
          ARRAY['run:started', 'step:x:started'], 'with realtime installed every event is still notified');
SELECT is((SELECT array_agg(event ORDER BY id) FROM realtime.messages), ARRAY['run:started', 'step:x:started'],
          'and also sent through realtime.send');
SELECT is((SELECT payload FROM realtime.messages WHERE event = 'run:started'),
          (SELECT payload::jsonb - 'event' FROM got WHERE payload LIKE '%"run:started"%'),
          'realtime gets pgflow''s payload exactly (without the "event" key)');

-- Through realtime.send a map's step:completed carries its outputs however large they are.
SELECT pgflow.start_flow('notes_map', '[1, 2, 3]', '00000000-0000-0000-0000-00000000c006');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index,
                            to_jsonb(ARRAY(SELECT md5(g::text || t.task_index) FROM generate_series(1, 10000) AS g)))
FROM pgflow_tests.read_and_start('notes_map', qty => 10) AS t;
SELECT is((SELECT m.payload->'output' FROM realtime.messages AS m
           WHERE m.event = 'step:m:completed' AND m.topic = 'pgflow:run:00000000-0000-0000-0000-00000000c006'),
          (SELECT to_jsonb(array_agg(t.output ORDER BY t.task_index)) FROM pgflow.step_tasks AS t
           WHERE t.run_id = '00000000-0000-0000-0000-00000000c006'),
          'realtime.send gets a big map''s whole output in its step:completed event');

-- Channel names fit NOTIFY's 63-byte limit for the longest flow slug pgmq allows.
SELECT pgflow.create_flow(repeat('q', 47));
SELECT pgflow.add_step(repeat('q', 47), 's');
SELECT lives_ok(format('SELECT pgflow.start_flow(%L, ''{}'')', repeat('q', 47)),
                'a 47-character flow slug gives a valid queue channel name');
SELECT dblink_disconnect('listener');
SELECT pass('the listener disconnects cleanly');

SELECT * FROM finish();
