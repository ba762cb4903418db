#!/usr/bin/env bash
# Fail-over under load. A primary and a streaming standby made with pg_basebackup -R (throwaway
# clusters on free ports of 127.0.0.1, run as the `postgres` OS user), synchronous replication
# (synchronous_commit = on, synchronous_standby_names naming the standby). Two worker processes and
# a client that starts runs continuously, all on the multi-host URL
#   postgresql://127.0.0.1:<primary>,127.0.0.1:<standby>/failover?target_session_attrs=read-write
# Under load the primary is stopped with `pg_ctl stop -m immediate` and the standby promoted.
# Asserts: every run whose start was acknowledged is completed on the new primary, exactly once and
# with the right output; no run or task is left unfinished; the workers and the client got through
# on their own (same processes, work done after the promotion by each of them). Prints the figures,
# in seconds from the `pg_ctl promote` call: the promotion itself, the first start acknowledged and
# the first run completed by the new primary, the last of the runs started before the kill
# completed; and how many handlers ran twice (side effects outside the database are at-least-once).
#
#   failover_test.sh <pgflow_failover_load> <work-dir>
# Fails (never skips) when the servers cannot be set up.
set -euo pipefail
load=$1
work=$2
source "$(dirname "$0")/../../scripts/lib/cluster.sh"

pids=()
base=""
bin=""
fail() {
  echo "FAILED: $*" >&2
  if [ -n "${primary_port:-}" ] && [ -n "${db:-}" ]; then
    echo "--- unfinished runs' tasks and messages on the primary (port $primary_port)" >&2
    sql "$primary_port" "SELECT t.run_id, t.step_slug, t.status, t.attempts_count, t.started_at, t.message_id,
                                q.vt, q.read_ct, now() AS now
                         FROM pgflow.step_tasks t JOIN pgflow.runs r USING (run_id)
                         LEFT JOIN pgmq.q_failover_chain q ON q.msg_id = t.message_id
                         WHERE r.status <> 'completed' ORDER BY t.run_id, t.step_slug" >&2 || true
  fi
  for f in "$work"/*.log "${base:+$base/primary.log}" "${base:+$base/standby.log}"; do
    [ -n "$f" ] && [ -f "$f" ] && { echo "--- last lines of $f" >&2; tail -n 25 "$f" >&2; }
  done
  # Where a load process that did not get through is stuck.
  if command -v gdb >/dev/null; then
    for p in "${pids[@]}"; do
      kill -0 "$p" 2>/dev/null || continue
      echo "--- threads of process $p" >&2
      gdb -p "$p" -batch -ex "thread apply all bt 12" 2>/dev/null | grep -E '^(Thread|#)' >&2 || true
    done
  fi
  exit 1
}
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$base" ]; then
    for d in primary standby; do
      [ -f "$base/$d/postmaster.pid" ] && pgflow_as_postgres "$bin/pg_ctl" -D "$base/$d" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$base"
  fi
  return 0
}
trap cleanup EXIT

now() { date +%s.%N; }
started=$(now)
step() { awk -v a="$started" -v b="$(now)" -v what="$*" 'BEGIN { printf "%6.2f s  %s\n", b - a, what }'; }
# sql PORT STATEMENT: one value per line, no headers.
sql() { "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "${db:-postgres}" -c "$2"; }
# wait_until SECONDS WHAT COMMAND...: polls COMMAND (every 0.1 s) until it succeeds.
wait_until() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$what (not within $limit s)"
    sleep 0.1
  done
}
at_least() { [ "$(sql "$1" "$2")" -ge "$3" ]; }
lines_after() { awk -v t="$2" '$3 > t' "$1" 2>/dev/null | wc -l; }

bin=$(pgflow_pg_bindir) || fail "PostgreSQL server binaries not found (postgresql-15)"
[ -x "$bin/pg_basebackup" ] || fail "pg_basebackup not found in $bin"
id postgres >/dev/null 2>&1 || fail "no 'postgres' OS user to run the clusters as"
rm -rf "$work"
mkdir -p "$work"
base=$(mktemp -d /tmp/pgflow-failover.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$base"
p1=$(pgflow_free_port)
p2=$(pgflow_free_port)
while [ "$p2" = "$p1" ]; do p2=$(pgflow_free_port); done

step "setting up the primary and the standby"
# The primary. Its postgresql.conf is copied to the standby by pg_basebackup.
pgflow_as_postgres "$bin/initdb" -D "$base/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$work/initdb.log" 2>&1 || fail "initdb failed"
cat >>"$base/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $p1
unix_socket_directories = '$base'
max_connections = 100
shared_buffers = 64MB
fsync = on
wal_level = replica
max_wal_senders = 5
synchronous_commit = on
synchronous_standby_names = 'FIRST 1 (standby1)'
log_min_messages = warning
CONF
pgflow_as_postgres "$bin/pg_ctl" -D "$base/primary" -l "$base/primary.log" -w -t 60 start >/dev/null \
  || fail "the primary did not start"

# The standby: its walreceiver's application_name is the name synchronous_standby_names lists.
pgflow_as_postgres "$bin/pg_basebackup" -D "$base/standby" -R -X stream -c fast \
  -d "host=127.0.0.1 port=$p1 user=postgres application_name=standby1" >"$work/basebackup.log" 2>&1 \
  || fail "pg_basebackup failed"
# Promoted, it has no standby of its own: with synchronous_standby_names set, every commit would
# wait for one.
cat >>"$base/standby/postgresql.conf" <<CONF
port = $p2
synchronous_standby_names = ''
CONF
pgflow_as_postgres "$bin/pg_ctl" -D "$base/standby" -l "$base/standby.log" -w -t 60 start >/dev/null \
  || fail "the standby did not start"
wait_until 60 "the standby streams synchronously" \
  at_least "$p1" "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby1' AND sync_state = 'sync'" 1

step "installing the schema"
sql "$p1" "CREATE DATABASE failover" >/dev/null
db=failover
primary_port=$p1
export PGFLOW_DATABASE_URL="postgresql://postgres@127.0.0.1:$p1,127.0.0.1:$p2/failover?target_session_attrs=read-write"
"$load" install >"$work/install.log" 2>&1 || fail "installing the schema failed"

step "load: two workers and a client"
"$load" worker --executions "$work/executions" >"$work/worker1.log" 2>&1 &
pids+=($!)
"$load" worker --executions "$work/executions" >"$work/worker2.log" 2>&1 &
pids+=($!)
"$load" client --acks "$work/acks" --pace-ms 5 >"$work/client.log" 2>&1 &
pids+=($!)
workers=("${pids[0]}" "${pids[1]}")
client=${pids[2]}

wait_until 60 "100 runs completed on the primary" at_least "$p1" "SELECT count(*) FROM pgflow.runs WHERE status = 'completed'" 100
in_flight=$(sql "$p1" "SELECT count(*) FROM pgflow.runs WHERE status = 'started'") || fail "querying the primary failed"
[ "$(sql "$p1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ] \
  || fail "the standby is no longer synchronous"

acked_before=$(wc -l <"$work/acks")
step "stopping the primary (immediate) and promoting the standby"
t_kill=$(now)
pgflow_as_postgres "$bin/pg_ctl" -D "$base/primary" -m immediate -w stop >/dev/null || fail "stopping the primary failed"
# From here on every commit is the new primary's: the old one is gone (-w waited for it).
t_promote=$(now)
pgflow_as_postgres "$bin/pg_ctl" -D "$base/standby" -w -t 60 promote >/dev/null || fail "promoting the standby failed"
t_promoted=$(now)
primary_port=$p2

# Load goes on against the new primary: the same client and workers, reconnected by themselves.
step "load on the new primary"
t_promote_ms=$(awk -v t="$t_promote" 'BEGIN { printf "%.0f", t * 1000 }')
acks_after_promotion() { [ "$(lines_after "$work/acks" "$t_promote_ms")" -ge 100 ]; }
wait_until 60 "the client had 100 starts acknowledged after the promotion" acks_after_promotion
wait_until 60 "100 runs completed after the promotion" \
  at_least "$p2" "SELECT count(*) FROM pgflow.runs WHERE completed_at > to_timestamp($t_promote)" 100
step "stopping the client; waiting for every run to finish"
kill -TERM "$client"
wait "$client" || fail "the client exited with status $?"
# Tasks whose claim reached the standby but whose worker never heard of it wait for their timeout (5 s).
wait_until 60 "every run finished" at_least "$p2" "SELECT (count(*) = 0)::int FROM pgflow.runs WHERE status = 'started'" 1
for p in "${workers[@]}"; do
  kill -0 "$p" 2>/dev/null || fail "worker process $p died"
  [ "$(awk -v t="$t_promote_ms" -v p="$p" '$1 > t && $2 == p' "$work/executions" | wc -l)" -gt 0 ] \
    || fail "worker process $p ran no handler after the promotion"
done
step "stopping the workers"
for p in "${workers[@]}"; do
  kill -TERM "$p"
  wait "$p" || fail "worker process $p exited with status $?"
done
pids=()

step "checking the runs on the new primary"
# Every acknowledged start, checked on the new primary.
checks=$("$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p2" -U postgres -d failover <<SQL
CREATE TEMP TABLE acked (run_id uuid PRIMARY KEY, input int NOT NULL, acked_ms bigint NOT NULL);
\copy acked FROM '$work/acks' WITH (DELIMITER ' ')
SELECT 'acknowledged=' || count(*) FROM acked;
SELECT 'acknowledged_missing=' || count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM pgflow.runs r WHERE r.run_id = a.run_id);
SELECT 'acknowledged_not_completed=' || count(*) FROM acked a JOIN pgflow.runs r USING (run_id) WHERE r.status <> 'completed';
SELECT 'wrong_output=' || count(*) FROM pgflow.runs r
  WHERE r.status = 'completed' AND r.output IS DISTINCT FROM jsonb_build_object('second', ((r.input)::int + 1) * 2);
SELECT 'runs_not_completed=' || count(*) FROM pgflow.runs WHERE status <> 'completed';
SELECT 'tasks_not_completed=' || count(*) FROM pgflow.step_tasks WHERE status <> 'completed';
SELECT 'runs_unacknowledged=' || count(*) FROM pgflow.runs r WHERE NOT EXISTS (SELECT 1 FROM acked a WHERE a.run_id = r.run_id);
SELECT 'resume_completion_s=' || round((extract(epoch FROM min(completed_at)) - $t_promote)::numeric, 3)
  FROM pgflow.runs WHERE completed_at > to_timestamp($t_promote);
SELECT 'in_flight_completed_s=' || round((extract(epoch FROM max(r.completed_at)) - $t_promote)::numeric, 3)
  FROM pgflow.runs r JOIN acked a USING (run_id) WHERE a.acked_ms < $t_kill * 1000;
SELECT 'resume_start_s=' || round((min(acked_ms) / 1000.0 - $t_promote)::numeric, 3) FROM acked WHERE acked_ms > $t_promote * 1000;
SQL
) || fail "checking the runs on the new primary failed"
value() { sed -n "s/^$1=//p" <<<"$checks"; }
echo "$checks"
[ "$(value acknowledged_missing)" = 0 ] || fail "acknowledged runs missing on the new primary"
[ "$(value acknowledged_not_completed)" = 0 ] || fail "acknowledged runs not completed"
[ "$(value wrong_output)" = 0 ] || fail "runs completed with a wrong output"
[ "$(value runs_not_completed)" = 0 ] || fail "runs not completed"
[ "$(value tasks_not_completed)" = 0 ] || fail "tasks not completed"

# Handlers run more than once for the same task (a claim or result lost with the primary).
executions=$(wc -l <"$work/executions")
twice=$(awk '{ n[$3 " " $4 " " $5]++ } END { c = 0; for (k in n) if (n[k] > 1) c++; print c }' "$work/executions")
tasks=$(awk '{ n[$3 " " $4 " " $5]++ } END { print length(n) }' "$work/executions")
echo "figures: stop_s=$(awk -v a="$t_kill" -v b="$t_promote" 'BEGIN { printf "%.3f", b - a }')" \
  "promote_s=$(awk -v a="$t_promote" -v b="$t_promoted" 'BEGIN { printf "%.3f", b - a }')" \
  "resume_completion_s=$(value resume_completion_s) resume_start_s=$(value resume_start_s)" \
  "in_flight_completed_s=$(value in_flight_completed_s)" \
  "runs_in_flight_at_kill=$in_flight acknowledged_before_kill=$acked_before acknowledged=$(value acknowledged)" \
  "tasks=$tasks handler_runs=$executions tasks_run_twice=$twice"
