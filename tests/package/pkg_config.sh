#!/usr/bin/env bash
# package.pkg_config: the README's pkg-config commands: `cmake --install` of this build, then
# `pkg-config --cflags --libs pgflow-cpp` builds the first flow, which runs.
#   pkg_config.sh SOURCE_DIR BINARY_DIR WORK_DIR
set -euo pipefail
export PGFLOW_SOURCE_DIR=$1
binary_dir=$2
work=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
source "$PGFLOW_SOURCE_DIR/tests/sql/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db pkg_config)
trap 'pgflow_sqltest_drop_db "$db"' EXIT

rm -rf "$work" && mkdir -p "$work/project"
cp "$PGFLOW_SOURCE_DIR/examples/first_flow.cpp" "$work/project/app.cpp"
# The README's build directory and prefix, here this build and a prefix under the test's directory.
readme_block package.pkg_config \
  | sed -e "s|cmake --install build |cmake --install '$binary_dir' |" -e "s|/opt/pgflow-cpp|$work/prefix|g" >"$work/commands.sh"
run_first_flow "$work" "$db"

export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
[ "$(pkg-config --modversion pgflow-cpp)" = "$(cat "$PGFLOW_SOURCE_DIR/VERSION")" ] || {
  echo "error: pgflow-cpp.pc's version $(pkg-config --modversion pgflow-cpp) is not VERSION's" >&2; exit 1; }
[ -f "$(pkg-config --variable=sqldir pgflow-cpp)/install.sql" ] || {
  echo "error: pgflow-cpp.pc's sqldir has no install.sql" >&2; exit 1; }
echo "ok: built with pkg-config --cflags --libs pgflow-cpp"
