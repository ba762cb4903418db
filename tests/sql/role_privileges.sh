#!/usr/bin/env bash
# sql.role_privileges: the README's least-privilege roles, set up exactly as its "roles" and
# "grants" blocks say (schema installed as the owner role), may do what the README says and
# nothing else: tests/sql/privileges/role_matrix.sql checks every role's may and may-not, function
# by function and table by table, including a role without grants and a login member of the owner
# role that registers a flow without SET ROLE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db role_privileges)
suffix="_rp$$"
roles=(pgflow_owner pgflow_worker pgflow_client pgflow_monitor pgflow_member pgflow_nobody)
cleanup() {
  pgflow_sqltest_drop_db "$db"
  for r in "${roles[@]}"; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS \"$r$suffix\"" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# The fenced block after <!-- test: NAME --> in README.md (the package tests' reader), with this
# test's role and database names.
export PGFLOW_SOURCE_DIR="$repo"
source "$repo/tests/package/lib.sh"
readme_sql() {
  readme_block "$1" |
    sed -E "s/\b(pgflow_(owner|worker|client|monitor))\b/\1$suffix/g; s/DATABASE app /DATABASE \"$db\" /"
}

readme_sql roles | psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE ROLE "pgflow_member$suffix" LOGIN IN ROLE "pgflow_owner$suffix";  -- registers without SET ROLE
CREATE ROLE "pgflow_nobody$suffix";                                     -- no grants at all
SQL
PGOPTIONS="-c role=pgflow_owner$suffix -c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 -v queue=builtin -d "$db" -f "$repo/sql/install.sql" >/dev/null
readme_sql grants | PGOPTIONS="-c role=pgflow_owner$suffix" psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
  -c 'CREATE EXTENSION IF NOT EXISTS pgtap' \
  -f "$here/fixtures/helpers.sql" >/dev/null

PGOPTIONS="-c client_min_messages=warning -c pgflow_test.role_suffix=$suffix" \
  pg_prove --failures --dbname "$db" "$here/privileges/role_matrix.sql"
