#!/usr/bin/env bash
# How fast can a single-step run be on pgflow's schema? pgbench drives CLIENTS sessions (4 by
# default, like scripts/bench's workers), each starting and finishing one single-step run after
# another, one transaction per call, for eight scripts (benchmarks/sql/floor/) in databases of their
# own on one throwaway cluster, alternated over ROUNDS rounds of SECONDS_PER_ROUND each:
#   pgflow 0.8.1   pgflow 0.8.1's published SQL through its API, as its edge worker calls it
#                  (pgflow_api: start_flow; pgmq.read; start_tasks; complete_task)
#   ours, api      pgflow-cpp's sql/ through the same calls
#   ours, worker   pgflow-cpp's sql/ through the statements pgflow::worker sends (worker_calls)
#   schema floor   pgflow-cpp's tables written by one plain statement per transaction, three
#                  transactions, no events (schema_rows): what the rows and commits alone cost an
#                  engine that starts one run per transaction and claims one task at a time
#   floor, by 10   the same with claims and completions of up to 10 tasks, one iteration in eight
#                  (schema_rows_batched): the floor for a worker whose claims find several tasks
#   start floor    that floor's first transaction alone, the start (schema_start): what every run
#                  started one per transaction costs, however its task is claimed and completed
#   ours, start    pgflow-cpp's pgflow.start_flow alone (start_flow), against the start floor
#   bare queue     one table: insert, claim (SKIP LOCKED), delete (queue_only)
# and prints runs per second (median and spread) and the server's CPU per run (every process of the
# cluster, from /proc: autovacuum and the background writers included; each cell's database is
# vacuumed before it), each against pgflow 0.8.1's. Run it on a quiet machine. The sessions run
# their calls back to back with no handler or client work between them, so a run costs the server
# more here than under scripts/bench's workers: compare the rows with each other, not with it.
#   benchmarks/sql/single_step_floor.sh       ROUNDS=3 SECONDS_PER_ROUND=8 CLIENTS=4 by default
# With --map, the same for maps of 1,000 elements, claimed and completed 10 tasks at a time, in
# tasks per second and server CPU per task against the bare queue's (the limit of goal 3 of issue
# 18: a map of 1,000 at 30 % of it):
#   ours, worker   pgflow-cpp's sql/ through the statements pgflow::worker sends (map_worker_calls)
#   schema floor   the rows alone, one statement per transaction, no events (map_rows_batched)
#   bare queue     one table, 10 at a time, as scripts/bench's limit engine (queue_batched)
#   benchmarks/sql/single_step_floor.sh --map
set -euo pipefail
map=0
for arg in "$@"; do
  case "$arg" in
    --map) map=1 ;;
    *) echo "single_step_floor.sh: unknown argument '$arg' (use --map)" >&2; exit 2 ;;
  esac
done
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/benchmarks/sql/floor"
rounds=${ROUNDS:-3}
secs=${SECONDS_PER_ROUND:-8}
clients=${CLIENTS:-4}
out="$repo/build/single-step-floor"
# shellcheck source=scripts/lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"
pgflow_fresh_cluster "$out" floor_pgflow >/dev/null
[ -n "${PGFLOW_EXTERNAL_SERVER:-}" ] && { echo "single_step_floor.sh: needs its own cluster (server CPU is read from /proc); unset PGFLOW_DATABASE_URL" >&2; exit 2; }
pgbench="$PGFLOW_PG_BIN/pgbench"

psql_db() { local db="$1"; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@" >/dev/null; }
install_ours() {  # install_ours DB FLOW-SETUP-SQL
  createdb "$1"
  PGOPTIONS="-c client_min_messages=warning" psql_db "$1" -v queue=builtin -f "$repo/sql/install.sql"
  psql_db "$1" -c "$2"
}
create_bare_queue() {
  createdb "$1"
  psql_db "$1" -c "CREATE TABLE floor_queue (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vt timestamptz NOT NULL DEFAULT clock_timestamp(), message jsonb);
    CREATE INDEX ON floor_queue (vt); CREATE SEQUENCE floor_done"
}
worker_row="INSERT INTO pgflow.workers (worker_id, queue_name, function_name)
  VALUES ('00000000-0000-0000-0000-00000000f100', 'floor_single', 'single_step_floor');"
if (( map )); then
  pgflow_log "installing pgflow-cpp's sql/ (two databases) and the bare queue"
  for db in map_worker map_schema; do
    install_ours "$db" "SELECT pgflow.create_flow('floor_map'); SELECT pgflow.add_step('floor_map', 'each', step_type => 'map');
      ${worker_row//floor_single/floor_map} CREATE SEQUENCE floor_done;"
  done
  create_bare_queue map_queue
  names=("ours, worker" "schema floor" "bare queue")
  dbs=(map_worker map_schema map_queue)
  scripts=(map_worker_calls map_rows_batched queue_batched)
  base=2 unit=tasks base_name=queue
else
  flow_setup="SELECT pgflow.create_flow('floor_single'); SELECT pgflow.add_step('floor_single', 'only'); $worker_row"
  pgflow_log "installing pgflow 0.8.1's SQL and pgflow-cpp's sql/ (three databases)"
  pgflow_install_pgflow_081 floor_pgflow "$out"
  psql_db floor_pgflow -c "$flow_setup"
  for db in floor_ours floor_worker floor_schema floor_batched floor_start floor_start_flow; do
    install_ours "$db" "$flow_setup"
  done
  create_bare_queue floor_queue
  names=("pgflow 0.8.1" "ours, api" "ours, worker" "schema floor" "floor, by 10" "start floor" "ours, start" "bare queue")
  dbs=(floor_pgflow floor_ours floor_worker floor_schema floor_batched floor_start floor_start_flow floor_queue)
  scripts=(pgflow_api pgflow_api worker_calls schema_rows schema_rows_batched schema_start start_flow queue_only)
  base=0 unit=runs base_name=pgflow
fi

# Clock ticks of every process of the cluster: the live ones, and the exited ones the postmaster
# reaped (a pgbench session's backend exits with it).
server_ticks() {
  python3 - "$(head -1 "$PGFLOW_CLUSTER_DIR/postmaster.pid")" <<'PY'
import os, sys
pm = sys.argv[1]
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
total = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        s = stat(pid)
    except OSError:
        continue
    if pid == pm:
        total += int(s[11]) + int(s[12]) + int(s[13]) + int(s[14])  # utime stime cutime cstime
    elif s[1] == pm:
        total += int(s[11]) + int(s[12])
print(total)
PY
}
hz=$(getconf CLK_TCK)

# Runs completed so far in database $1 (pgbench's transactions per second would count the
# iterations whose claim found nothing as runs); for the start floor, runs started; for the bare
# queue and the maps, what the sequence floor_done counted (messages, tasks).
runs_done() {
  if [ "$1" = floor_queue ] || (( map )); then
    psql -X -At -d "$1" -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM floor_done"
  elif [ "$1" = floor_start ] || [ "$1" = floor_start_flow ]; then
    psql -X -At -d "$1" -c "SELECT count(*) FROM pgflow.runs"
  else
    psql -X -At -d "$1" -c "SELECT count(*) FROM pgflow.runs WHERE status = 'completed'"
  fi
}

# Waits until the sessions pgbench opened on database $1 have ended (their backends' CPU is then in
# the postmaster's reaped-children count).
sessions_gone() {
  for _ in $(seq 1 100); do
    [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1' AND backend_type = 'client backend'")" = 0 ] && return 0
    sleep 0.05
  done
  echo "single_step_floor.sh: pgbench's sessions on $1 did not end within 5 s" >&2; exit 1
}

run_cell() {  # run_cell INDEX SECONDS -> "units_per_s server_ms_per_unit"
  local i="$1" t="$2" n0 n1 before after log="$out/pgbench.log"
  psql -X -q -d "${dbs[$i]}" -c "VACUUM" >/dev/null
  n0=$(runs_done "${dbs[$i]}")
  sessions_gone "${dbs[$i]}"
  before=$(server_ticks)
  if ! "$pgbench" -n -M prepared -c "$clients" -j 2 -T "$t" -f "$here/${scripts[$i]}.pgbench" "${dbs[$i]}" >"$log" 2>&1 \
     || grep -q "aborted" "$log"; then
    echo "single_step_floor.sh: pgbench failed for '${names[$i]}':" >&2; head -5 "$log" >&2; exit 1
  fi
  sessions_gone "${dbs[$i]}"
  after=$(server_ticks)
  n1=$(runs_done "${dbs[$i]}")
  awk -v n=$(( n1 - n0 )) -v t="$t" -v ticks=$(( after - before )) -v hz="$hz" \
    'BEGIN { printf "%.1f %.3f\n", n / t, (n > 0 ? 1000 * ticks / hz / n : 0) }'
}

pgflow_log "warm-up: 2 s per script"
for i in "${!names[@]}"; do run_cell "$i" 2 >/dev/null; done
: >"$out/rows.tsv"
for round in $(seq 1 "$rounds"); do
  pgflow_log "round $round of $rounds: ${#names[@]} scripts, $secs s each, $clients clients"
  for k in "${!names[@]}"; do
    if (( round % 2 == 0 )); then i=$(( ${#names[@]} - 1 - k )); else i=$k; fi
    read -r tps ms < <(run_cell "$i" "$secs")
    printf '%s\t%s\t%s\n' "$i" "$tps" "$ms" >>"$out/rows.tsv"
  done
done

echo
what=$( (( map )) && echo "maps of 1,000, tasks claimed and completed 10 at a time" || echo "single-step runs")
echo "$what, $clients clients, one transaction per call ($(psql -X -At -c 'SHOW server_version'), $(nproc) cores, $rounds × $secs s, alternated)"
python3 - "$out/rows.tsv" "$base" "$unit" "$base_name" "${names[@]}" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
base, unit, base_name, names = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
cell = {i: ([float(r[1]) for r in rows if int(r[0]) == i], [float(r[2]) for r in rows if int(r[0]) == i])
        for i in range(len(names))}
base_tps, base_ms = statistics.median(cell[base][0]), statistics.median(cell[base][1])
times = f"× {base_name}"
print(f"| {'script':<14} | {unit + '/s (median)':>16} | {'spread':>15} | {times:>8} | {'server ms/' + unit[:-1]:>14} | {times:>8} |")
print(f"|{'-' * 16}|{'-' * 18}:|{'-' * 17}:|{'-' * 10}:|{'-' * 16}:|{'-' * 10}:|")
for i, name in enumerate(names):
    tps, ms = cell[i]
    t, m = statistics.median(tps), statistics.median(ms)
    print(f"| {name:<14} | {t:>16.0f} | {min(tps):>7.0f}-{max(tps):<7.0f} | {t / base_tps:>8.2f} | {m:>14.3f} | {m / base_ms:>8.2f} |")
PY
