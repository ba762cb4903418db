-- Deferred notifications carry run inputs and outputs: only the owner reads or writes
-- pgflow_cpp.deferred_notifications, the roles go through notify / publish_deferred_notifications
-- (SECURITY DEFINER, search_path pinned), and a role without grants can do none of it. A row
-- NOTIFY would refuse can neither be recorded nor block the publication of the others.
SELECT plan(22);

DO $$
BEGIN
  IF to_regrole('pgflow_t_nobody_na') IS NOT NULL THEN  -- left by an interrupted run
    DROP OWNED BY pgflow_t_nobody_na;
    DROP ROLE pgflow_t_nobody_na;
  END IF;
END $$;
CREATE ROLE pgflow_t_nobody_na;

SELECT pgflow.create_flow('secret');
SELECT pgflow.add_step('secret', 'a');
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT pgflow.start_flow('secret', '{"password": "hunter2"}', '00000000-0000-0000-0000-0000000d0001');
COMMIT;
SELECT is((SELECT count(*) FROM pgflow_cpp.deferred_notifications), 3::bigint, 'three notifications wait to be published');

-- A role with no grants at all.
SELECT ok(NOT has_schema_privilege('pgflow_t_nobody_na', 'pgflow_cpp', 'USAGE'), 'PUBLIC may not use schema pgflow_cpp');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'SELECT payload FROM pgflow_cpp.deferred_notifications'), '42501',
          'a role without grants cannot read deferred notifications');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'SELECT pgflow_cpp.publish_deferred_notifications()'), '42501',
          'nor publish them');
-- Even with USAGE on the schema (as the README's roles have), no direct access to the rows.
GRANT USAGE ON SCHEMA pgflow_cpp TO pgflow_t_nobody_na;
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'SELECT payload FROM pgflow_cpp.deferred_notifications'), '42501',
          'a role with USAGE on pgflow_cpp cannot read them (run inputs and outputs)');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'DELETE FROM pgflow_cpp.deferred_notifications'), '42501',
          'nor delete them');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na',
            $$INSERT INTO pgflow_cpp.deferred_notifications (channel, payload) VALUES ('pgflow:queue:secret', repeat('x', 9000))$$),
          '42501', 'nor insert rows');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'TRUNCATE pgflow_cpp.deferred_notifications'), '42501',
          'nor truncate the table');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', $$SELECT pgflow_cpp.notify('pgflow:queue:secret', 'x')$$), '42501',
          'nor call notify');
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'SELECT pgflow_cpp.publish_deferred_notifications()'), '42501',
          'nor publish without a grant');
SELECT is((SELECT array_agg(DISTINCT a.grantee::regrole::text)
           FROM pg_class AS c, aclexplode(c.relacl) AS a
           WHERE c.oid = 'pgflow_cpp.deferred_notifications'::regclass),
          ARRAY[current_user::text], 'the owner is the only role with privileges on the table');
SELECT is((SELECT count(*) FROM pgflow_cpp.deferred_notifications), 3::bigint, 'the notifications are all still there');

-- Granted EXECUTE, a role publishes through the function, which runs as the owner.
GRANT EXECUTE ON FUNCTION pgflow_cpp.publish_deferred_notifications(integer) TO pgflow_t_nobody_na;
SELECT is(pgflow_tests.sqlstate_as('pgflow_t_nobody_na', 'SELECT pgflow_cpp.publish_deferred_notifications()'), 'ok',
          'a role granted EXECUTE publishes (SECURITY DEFINER)');
SELECT is((SELECT count(*) FROM pg_proc AS p
           WHERE p.oid IN ('pgflow_cpp.notify(text,text)'::regprocedure,
                           'pgflow_cpp.publish_deferred_notifications(integer)'::regprocedure)
             AND p.prosecdef AND 'search_path=""' = ANY (p.proconfig)),
          2::bigint, 'notify and publish_deferred_notifications run as the owner with search_path pinned');

-- Sizes: what NOTIFY would refuse is refused where it is recorded.
BEGIN;
SELECT set_config('pgflow_cpp.defer_notifications', 'on', true);
SELECT throws_ok($$SELECT pgflow_cpp.notify('pgflow:queue:secret', repeat('x', 8000))$$, '22023', 'payload string too long',
                 'a deferred payload of 8000 bytes fails as pg_notify would');
SELECT throws_ok($$SELECT pgflow_cpp.notify(repeat('c', 64), 'x')$$, '22023', 'channel name too long',
                 'so does a channel of 64 bytes');
SELECT throws_ok($$SELECT pgflow_cpp.notify('', 'x')$$, '22023', 'channel name cannot be empty',
                 'and an empty channel');
SELECT lives_ok($$SELECT pgflow_cpp.notify(repeat('c', 63), repeat('x', 7999))$$, 'the largest NOTIFY accepts is recorded');
ROLLBACK;
SELECT throws_ok($$INSERT INTO pgflow_cpp.deferred_notifications (channel, payload) VALUES ('pgflow:queue:secret', repeat('x', 9000))$$,
                 '23514', NULL, 'the table refuses an oversize row even from its owner');

-- And should one get in anyway (a table without the check), publication skips it.
BEGIN;
ALTER TABLE pgflow_cpp.deferred_notifications DROP CONSTRAINT deferred_notifications_notify_limits;
INSERT INTO pgflow_cpp.deferred_notifications (channel, payload)
VALUES ('pgflow:queue:secret', repeat('x', 9000)), ('pgflow:queue:secret', 'fine');
SELECT is(pgflow_cpp.publish_deferred_notifications(), 4, 'an oversize row does not stop the others being published');
SELECT is((SELECT count(*) FROM pgflow_cpp.deferred_notifications), 0::bigint, 'and it is removed with them');
ROLLBACK;
SELECT is(pgflow_cpp.publish_deferred_notifications(), 3, 'the three pending notifications are published');

DROP OWNED BY pgflow_t_nobody_na;
DROP ROLE pgflow_t_nobody_na;
SELECT * FROM finish();
