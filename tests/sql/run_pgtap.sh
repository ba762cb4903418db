#!/usr/bin/env bash
# Runs one pgTAP file against a fresh database: creates it on the server named by the PG*
# environment (or PGFLOW_DATABASE_URL), installs sql/install.sql with the built-in queue, pgTAP,
# dblink and the test helpers, runs pg_prove, and drops the database. Fails when the server is
# unreachable.
#   tests/sql/run_pgtap.sh tests/sql/<name>.sql
set -euo pipefail

test_file=${1:?usage: run_pgtap.sh <test.sql>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/sql/lib.sh
source "$here/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db "$(basename "$test_file" .sql)")
trap 'pgflow_sqltest_drop_db "$db"' EXIT

pgflow_sqltest_install "$db" "$repo"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
  -c 'CREATE EXTENSION IF NOT EXISTS pgtap' \
  -c 'CREATE EXTENSION IF NOT EXISTS dblink' \
  -f "$here/fixtures/helpers.sql" >/dev/null

PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" pg_prove --failures --dbname "$db" "$test_file"
