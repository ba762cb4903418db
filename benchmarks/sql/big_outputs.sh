#!/usr/bin/env bash
# benchmarks/sql/big_outputs.sql on pgflow-cpp's SQL and pgflow 0.8.1's, side by side, on a
# throwaway cluster: the last completion of a map whose tasks returned big outputs, for each
# STRINGS (strings per task output, default "30000 100000"; TASKS tasks, default 6). pgflow 0.8.1
# aggregates outputs with jsonb_agg / jsonb_object_agg, quadratic in the strings of a value on
# PostgreSQL 15 and earlier (sql/pgflow/0080_step_output.sql); ours does not.
#   benchmarks/sql/big_outputs.sh
#   STRINGS="10000 30000 100000" TASKS=6 benchmarks/sql/big_outputs.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$repo/build/big-outputs"
# shellcheck source=scripts/lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"
pgflow_fresh_cluster "$out" big_outputs >/dev/null

printf 'engine\tstrings_per_task\ttasks\trun_output_MB\tlast_completion_ms\tstatus\n'
for strings in ${STRINGS:-30000 100000}; do
  for engine in ours pgflow; do
    db="big_${engine}_${strings}"
    createdb "$db"
    if [ "$engine" = ours ]; then
      psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v queue=builtin -f "$repo/sql/install.sql" >/dev/null
    else
      PGOPTIONS="-c client_min_messages=warning" pgflow_install_pgflow_081 "$db" "$out"
    fi
    printf '%s\t' "$engine"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v strings="$strings" -v tasks="${TASKS:-6}" \
      -f "$repo/benchmarks/sql/big_outputs.sql"
    dropdb "$db"
  done
done
