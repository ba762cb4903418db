#!/usr/bin/env bash
# Server cost per call of the SQL core's hot paths (benchmarks/sql/call_costs.sql), for the working
# tree's sql/ and, to compare, for the sql/ of other git revisions: each is installed into a
# database of its own on one throwaway cluster (or the server of PGFLOW_DATABASE_URL), and the
# script runs ROUNDS times over all of them in alternating order; the report gives the median
# (and the spread, min..max) of the CPU and wall milliseconds per unit.
#   benchmarks/sql/call_costs.sh [REV | DIR ...]  e.g. benchmarks/sql/call_costs.sh HEAD~1
# (DIR: a directory with its own sql/install.sql, e.g. a variant being tried out)
#   ROUNDS=5 RUNS=1000 benchmarks/sql/call_costs.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rounds=${ROUNDS:-3}
runs=${RUNS:-500}
# shellcheck source=scripts/lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"
pgflow_cluster_start "$repo/build/sql-call-costs/pgdata" pgflow_call_costs >/dev/null
[ -n "${PGFLOW_EXTERNAL_SERVER:-}" ] && source "$repo/tests/sql/lib.sh" && pgflow_sqltest_connect_env

work=$(mktemp -d)
labels=(worktree)
dirs=("$repo")
for rev in "$@"; do
  if [ -f "$rev/sql/install.sql" ]; then
    # A directory holding another sql/ (e.g. a variant being tried out).
    labels+=("$(basename "$rev")")
    dirs+=("$(cd "$rev" && pwd)")
    continue
  fi
  git -C "$repo" rev-parse --verify --quiet "$rev^{commit}" >/dev/null || { echo "error: neither a git revision nor a directory with sql/install.sql: $rev" >&2; exit 2; }
  mkdir -p "$work/$rev"
  git -C "$repo" archive "$rev" sql | tar -x -C "$work/$rev"
  labels+=("$rev")
  dirs+=("$work/$rev")
done
dbs=()
cleanup() {
  for db in "${dbs[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
  pgflow_cluster_stop
}
trap cleanup EXIT

: >"$work/rows.tsv"
for round in $(seq 1 "$rounds"); do
  for k in "${!labels[@]}"; do
    # Alternate the order from round to round so that neither side always runs first.
    if (( round % 2 == 0 )); then i=$(( ${#labels[@]} - 1 - k )); else i=$k; fi
    db="pgflow_call_costs_${i}_$$"
    dbs+=("$db")
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
    PGOPTIONS="-c client_min_messages=warning" \
      psql -X -q -v ON_ERROR_STOP=1 -v queue=builtin -d "$db" -f "${dirs[$i]}/sql/install.sql" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -v runs="$runs" -d "$db" -f "$repo/benchmarks/sql/call_costs.sql" \
      | awk -v label="${labels[$i]}" -F'\t' 'NF == 5 { print label "\t" $0 }' >>"$work/rows.tsv"
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
done

echo "pgflow-cpp SQL call costs ($(psql -X -At -d postgres -c 'SHOW server_version'), $(nproc) cores, $rounds rounds, runs=$runs)"
echo "  median per unit, ms of backend CPU [min..max] and of wall time"
python3 - "$work/rows.tsv" "${labels[@]}" <<'PY'
import sys, statistics, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    label, name, unit, n, cpu, wall = line.rstrip("\n").split("\t")
    rows.setdefault(name, {}).setdefault(label, []).append((float(cpu or 0), float(wall or 0), unit))
labels = sys.argv[2:]
for name, by_label in rows.items():
    print(f"  {name}")
    for label in labels:
        if label not in by_label:
            continue
        v = by_label[label]
        cpu = [c for c, _, _ in v]
        wall = [w for _, w, _ in v]
        print(f"    {label:<12} cpu {statistics.median(cpu):8.3f} [{min(cpu):.3f}..{max(cpu):.3f}]"
              f"   wall {statistics.median(wall):8.3f} ms/{v[0][2]}")
PY
