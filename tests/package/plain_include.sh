#!/usr/bin/env bash
# package.plain_include: the README's plain-include command (include/ and libpq's flags, no CMake)
# builds the first flow, which installs the schema from the SQL inside the headers (no sql/ at run
# time: it runs in an empty directory) and prints its result; the installed version is VERSION's.
#   plain_include.sh SOURCE_DIR WORK_DIR
set -euo pipefail
export PGFLOW_SOURCE_DIR=$1
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
source "$PGFLOW_SOURCE_DIR/tests/sql/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db plain_include)
trap 'pgflow_sqltest_drop_db "$db"' EXIT

rm -rf "$work" && mkdir -p "$work/project"
cp -r "$PGFLOW_SOURCE_DIR/include" "$work/project/include"
cp "$PGFLOW_SOURCE_DIR/examples/first_flow.cpp" "$work/project/app.cpp"
readme_block package.plain_include >"$work/commands.sh"
run_first_flow "$work" "$db"

version=$(psql -X -At -d "$db" -c 'SELECT pgflow_cpp.installed_version()')
[ "$version" = "$(cat "$PGFLOW_SOURCE_DIR/VERSION")" ] || {
  echo "error: installed_version() is '$version', VERSION says $(cat "$PGFLOW_SOURCE_DIR/VERSION")" >&2; exit 1; }
echo "ok: built with the plain include path; install_schema() installed version $version"
