-- pgflow_cpp.cron_next_run: what cron accepts, the next tick it computes (fields, names, steps,
-- seconds, @every, macros, time zones and daylight saving), and clear errors naming the field.
SELECT plan(41);

CREATE FUNCTION pg_temp.next(cron text, after text, zone text DEFAULT 'UTC') RETURNS text
LANGUAGE sql AS $$ SELECT to_char(pgflow_cpp.cron_next_run(cron, zone, after::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') $$;

SELECT is(pg_temp.next('*/15 * * * *', '2026-01-01 10:07:03Z'), '2026-01-01 10:15:00', 'a step in minutes');
SELECT is(pg_temp.next('*/15 * * * *', '2026-01-01 10:15:00Z'), '2026-01-01 10:30:00', 'strictly after: a tick at `after` is not the next one');
SELECT is(pg_temp.next('5,35 9-17 * * *', '2026-01-01 17:40Z'), '2026-01-02 09:05:00', 'lists and ranges; the next day');
SELECT is(pg_temp.next('10-40/10 * * * *', '2026-01-01 10:35Z'), '2026-01-01 10:40:00', 'a stepped range');
SELECT is(pg_temp.next('5/20 * * * *', '2026-01-01 10:46Z'), '2026-01-01 11:05:00', 'value/step runs from the value to the end');
SELECT is(pg_temp.next('0 0 1 JAN *', '2026-03-01Z'), '2027-01-01 00:00:00', 'month names');
SELECT is(pg_temp.next('0 0 * * mon-fri', '2026-01-02 12:00Z'), '2026-01-05 00:00:00', 'weekday names, any case (Friday -> Monday)');
SELECT is(pg_temp.next('0 0 * * 7', '2026-01-01Z'), '2026-01-04 00:00:00', 'day-of-week 7 is Sunday');
SELECT is(pg_temp.next('0 0 13 * FRI', '2026-01-01Z'), '2026-01-02 00:00:00', 'both day fields restricted: either matches (cron)');
SELECT is(pg_temp.next('0 0 29 2 *', '2026-01-01Z'), '2028-02-29 00:00:00', 'February 29th: the next leap year');
SELECT is(pg_temp.next('0 0 31 * *', '2026-04-01Z'), '2026-05-31 00:00:00', 'the 31st skips short months');
SELECT is(pg_temp.next('*/5 * * * * *', '2026-01-02 12:00:07Z'), '2026-01-02 12:00:10', 'six fields: seconds first');
SELECT is(pg_temp.next('30 0 12 * * *', '2026-01-02 12:00:07Z'), '2026-01-02 12:00:30', 'six fields: a fixed second');
SELECT is(pg_temp.next('@every 1s', '2026-01-02 12:00:00.5Z'), '2026-01-02 12:00:01', '@every 1s: whole seconds');
SELECT is(pg_temp.next('@every 15 minutes', '2026-01-02 12:07:00Z'), '2026-01-02 12:15:00', '@every: multiples since the epoch');
SELECT is(pg_temp.next('@every 1h', '2026-01-02 12:00:00Z', 'Asia/Kolkata'), '2026-01-02 13:00:00', '@every ignores the time zone');
SELECT is(pg_temp.next('@hourly', '2026-01-02 12:00:00Z'), '2026-01-02 13:00:00', '@hourly');
SELECT is(pg_temp.next('@daily', '2026-01-02 12:00:07Z', 'Asia/Tokyo'), '2026-01-02 15:00:00', '@daily in Tokyo is 15:00 UTC');
SELECT is(pg_temp.next('0 2 * * *', '2026-01-01 10:00Z', 'Europe/Berlin'), '2026-01-02 01:00:00', 'wall-clock time in the zone (winter)');
SELECT is(pg_temp.next('0 2 * * *', '2026-07-01 10:00Z', 'Europe/Berlin'), '2026-07-02 00:00:00', 'wall-clock time in the zone (summer)');
SELECT is(pg_temp.next('30 2 * * *', '2026-03-07 12:00Z', 'America/New_York'), '2026-03-08 07:30:00',
          'a skipped wall-clock time (02:30 on the spring change) runs at 03:30 EDT');
SELECT is(pg_temp.next('30 2 * * *', '2026-03-08 08:00Z', 'America/New_York'), '2026-03-09 06:30:00', 'and the next day is back to 02:30');
SELECT is(pg_temp.next('30 1 * * *', '2026-10-31 12:00Z', 'America/New_York'), '2026-11-01 06:30:00',
          'a repeated wall-clock time (01:30 on the autumn change) runs once, at its second occurrence (EST)');
SELECT is(pg_temp.next('30 1 * * *', '2026-11-01 06:30Z', 'America/New_York'), '2026-11-02 06:30:00', 'and not again that night');
SELECT is(pg_temp.next('0 * * * *', '2026-11-01 04:30Z', 'America/New_York'), '2026-11-01 06:00:00',
          'hourly over the autumn change: 01:00 runs once (EST)');

SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('61 * * * *', 'UTC', now())$$, '22023',
  'invalid cron expression "61 * * * *": minute field "61": 61 is out of range 0-59', 'a value out of range names the field');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('* 24 * * *', 'UTC', now())$$, '22023',
  'invalid cron expression "* 24 * * *": hour field "24": 24 is out of range 0-23', 'hour');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('* * * FOO *', 'UTC', now())$$, '22023',
  'invalid cron expression "* * * FOO *": month field "FOO": "FOO" is not a number or a name (JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC)',
  'an unknown name lists the names');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('* * * * 1-8', 'UTC', now())$$, '22023',
  'invalid cron expression "* * * * 1-8": day-of-week field "1-8": 8 is out of range 0-7', 'day-of-week');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('*/0 * * * *', 'UTC', now())$$, '22023',
  'invalid cron expression "*/0 * * * *": minute field "*/0": step in "*/0" is 0', 'a zero step');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('5-1 * * * *', 'UTC', now())$$, '22023',
  'invalid cron expression "5-1 * * * *": minute field "5-1": range "5-1" runs backwards', 'a backwards range');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('1,,2 * * * *', 'UTC', now())$$, '22023',
  'invalid cron expression "1,,2 * * * *": minute field "1,,2": "" is not a value, a range or *', 'an empty list element');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('* * *', 'UTC', now())$$, '22023',
  'invalid cron expression "* * *": 3 fields; expected 5 (minute hour day-of-month month day-of-week), 6 (seconds first), @every <interval> or @yearly, @monthly, @weekly, @daily, @hourly',
  'the wrong number of fields');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('0 0 30 2 *', 'UTC', now())$$, '22023',
  'invalid cron expression "0 0 30 2 *": it never matches (no such date within 30 years)', 'an expression that never matches');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('@every 1 month', 'UTC', now())$$, '22023',
  'invalid cron expression "@every 1 month": @every takes an interval of at least 1 second, in seconds, minutes, hours or days (not months or years)',
  '@every months');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('@every often', 'UTC', now())$$, '22023',
  'invalid cron expression "@every often": "often" is not an interval (e.g. @every 30s, @every 5 minutes)', '@every without an interval');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('* * * * *', 'Mars/Olympus', now())$$, '22023',
  'unknown time zone "Mars/Olympus" (use a name from pg_timezone_names, e.g. Europe/Berlin or UTC)', 'an unknown time zone');
-- No tick follows infinity: the walk would spin for ever (and @every returned infinity).
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('* * * * *', 'UTC', 'infinity')$$, '22023',
  'cron_next_run: after must be a finite timestamp, not infinity', 'after infinity is refused, not walked for ever');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('0 0 1 1 *', 'UTC', '-infinity')$$, '22023',
  'cron_next_run: after must be a finite timestamp, not -infinity', 'after -infinity is refused');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('@every 1s', 'UTC', 'infinity')$$, '22023',
  'cron_next_run: after must be a finite timestamp, not infinity', '@every after infinity is refused too');
SELECT throws_ok($$SELECT pgflow_cpp.cron_next_run('@every 1s', 'UTC', NULL)$$, '22004',
  'cron_next_run: after must not be NULL', 'a NULL after');

SELECT * FROM finish();
