#!/usr/bin/env bash
# sql.upgrade_in_place: a database installed from an older sql/ (tests/sql/fixtures/sql-*.tar.gz:
# 0.1.0 as of 2026-12-02, before run control and conditions) upgrades in place by installing the
# current sql/ (decision 6): its runs, steps, tasks and queue messages survive, its schema then
# equals a fresh install's (pg_dump --schema-only), and a run started before the upgrade finishes
# after it with the new functions.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

pgflow_sqltest_connect_env
old_db=$(pgflow_sqltest_create_db upgrade_old)
fresh_db=$(pgflow_sqltest_create_db upgrade_fresh)
work=$(mktemp -d)
trap 'pgflow_sqltest_drop_db "$old_db"; pgflow_sqltest_drop_db "$fresh_db"; rm -rf "$work"' EXIT
fail() { echo "not ok - $*" >&2; exit 1; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$old_db" -c "$1"; }

n=0
for fixture in "$here"/fixtures/sql-*.tar.gz; do
  mkdir -p "$work/old" && tar -xzf "$fixture" -C "$work/old"
  pgflow_sqltest_install "$old_db" "$work/old"
  psql -X -q -v ON_ERROR_STOP=1 -d "$old_db" >/dev/null <<'SQL'
SELECT pgflow.create_flow('upg', base_delay => 0);
SELECT pgflow.add_step('upg', 'a');
SELECT pgflow.add_step('upg', 'b', ARRAY['a']);
SELECT pgflow.add_step('upg', 'm', ARRAY['a'], step_type => 'map');
INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES ('11111111-1111-1111-1111-111111111111', 'upg', 'old');
-- e001 completes, e002 fails, e003 is left mid-way: a and b completed, m's two tasks started by a
-- worker that finishes them after the upgrade.
SELECT pgflow.start_flow('upg', '{}', '00000000-0000-0000-0000-00000000e001');
SELECT pgflow.start_flow('upg', '{}', '00000000-0000-0000-0000-00000000e002');
SELECT pgflow.start_flow('upg', '{}', '00000000-0000-0000-0000-00000000e003');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '[1, 2]')
FROM pgflow.start_tasks('upg', ARRAY(SELECT msg_id FROM pgmq.read('upg', 30, 10)), '11111111-1111-1111-1111-111111111111') AS t
WHERE t.run_id <> '00000000-0000-0000-0000-00000000e002';
SELECT pgflow.fail_task('00000000-0000-0000-0000-00000000e002', 'a', 0, 'boom');
SELECT pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '"done"')
FROM pgflow.start_tasks('upg', ARRAY(SELECT msg_id FROM pgmq.read('upg', 30, 10)), '11111111-1111-1111-1111-111111111111') AS t
WHERE t.run_id = '00000000-0000-0000-0000-00000000e001' OR t.step_slug = 'b';
SQL
  snapshot() {
    q "SELECT string_agg(run_id || ' ' || status || ' ' || remaining_steps || ' ' || coalesce(output::text, '-'), ', ' ORDER BY run_id) FROM pgflow.runs"
    q "SELECT string_agg(run_id || ' ' || step_slug || ' ' || status, ', ' ORDER BY run_id, step_slug) FROM pgflow.step_states"
    q "SELECT string_agg(run_id || ' ' || step_slug || ' ' || task_index || ' ' || status || ' ' || coalesce(message_id::text, '-'), ', ' ORDER BY run_id, step_slug, task_index) FROM pgflow.step_tasks"
    q "SELECT count(*) || ' queued, ' || (SELECT count(*) FROM pgmq.a_upg) || ' archived' FROM pgmq.q_upg"
  }
  snapshot >"$work/before"
  grep -q '00000000-0000-0000-0000-00000000e003 started' "$work/before" || fail "fixture set-up: e003 is not mid-way"

  pgflow_sqltest_install "$old_db" "$repo"
  n=$((n + 1)); echo "ok $n - $(basename "$fixture"): the current sql/ installs over it"
  snapshot >"$work/after"
  diff -u "$work/before" "$work/after" || fail "$(basename "$fixture"): the upgrade changed runs, steps, tasks or messages"
  n=$((n + 1)); echo "ok $n - runs, step states, tasks and queue messages are unchanged"

  pgflow_sqltest_install "$fresh_db" "$repo"
  psql -X -q -v ON_ERROR_STOP=1 -d "$fresh_db" >/dev/null <<'SQL'
SELECT pgflow.create_flow('upg', base_delay => 0);
SELECT pgflow.add_step('upg', 'a');
SELECT pgflow.add_step('upg', 'b', ARRAY['a']);
SELECT pgflow.add_step('upg', 'm', ARRAY['a'], step_type => 'map');
SQL
  dump_schema() { pg_dump --schema-only --no-owner -d "$1" | grep -Ev '^\\(un)?restrict '; }
  dump_schema "$old_db" >"$work/upgraded.sql"
  dump_schema "$fresh_db" >"$work/fresh.sql"
  diff -u "$work/fresh.sql" "$work/upgraded.sql" || fail "$(basename "$fixture"): the upgraded schema differs from a fresh install"
  n=$((n + 1)); echo "ok $n - the upgraded schema equals a fresh install's"

  # The worker that claimed e003's map tasks before the upgrade completes them after it.
  q "SELECT count(*) FROM pgflow.step_tasks AS t,
     LATERAL pgflow.complete_task(t.run_id, t.step_slug, t.task_index, '\"ok\"') AS c
     WHERE t.run_id = '00000000-0000-0000-0000-00000000e003' AND t.status = 'started'" >/dev/null
  [ "$(q "SELECT status FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000e003'")" = completed ] \
    || fail "the run started before the upgrade did not complete after it: $(q "SELECT status || ' ' || remaining_steps FROM pgflow.runs WHERE run_id = '00000000-0000-0000-0000-00000000e003'")"
  n=$((n + 1)); echo "ok $n - a run started before the upgrade completes after it"

  pgflow_sqltest_drop_db "$old_db"; old_db=$(pgflow_sqltest_create_db upgrade_old)
  pgflow_sqltest_drop_db "$fresh_db"; fresh_db=$(pgflow_sqltest_create_db upgrade_fresh)
  rm -rf "$work/old"
done
[ "$n" -gt 0 ] || fail "no fixture tests/sql/fixtures/sql-*.tar.gz"
echo "1..$n"
