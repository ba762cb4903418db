#!/usr/bin/env bash
# package.version_agrees: VERSION is the one place the version is written; CMake's project version,
# the Conan recipe, pgflow-cpp.pc, the SQL that pgflow_cpp.installed_version() reads and the
# embedded SQL all say the same. (The installed value itself: sql.install_twice, package.plain_include.)
#   version_agrees.sh SOURCE_DIR CMAKE_PROJECT_VERSION PC_FILE WORK_DIR
set -euo pipefail
export PGFLOW_SOURCE_DIR=$1
cmake_version=$2
pc_file=$3
work=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"

version=$(cat "$PGFLOW_SOURCE_DIR/VERSION")
status=0
check() {
  if [ "$2" = "$version" ]; then echo "ok: $1 says $2"; else echo "not ok: $1 says '$2', VERSION says $version" >&2; status=1; fi
}
check "CMake's project(VERSION)" "$cmake_version"
rm -rf "$work" && mkdir -p "$work"
conan_env "$work"
check "conanfile.py" "$(cd "$PGFLOW_SOURCE_DIR" && conan inspect . --format=json | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')"
check "pgflow-cpp.pc" "$(sed -n 's/^Version: //p' "$pc_file")"
check "sql/pgflow/0990_record_version.sql" \
  "$(sed -n "s/^VALUES ('\([^']*\)'.*/\1/p" "$PGFLOW_SOURCE_DIR/sql/pgflow/0990_record_version.sql")"
check "include/pgflow/detail/embedded_sql.hpp" \
  "$(sed -n 's/^inline constexpr std::string_view version = "\(.*\)";/\1/p' "$PGFLOW_SOURCE_DIR/include/pgflow/detail/embedded_sql.hpp")"
exit $status
