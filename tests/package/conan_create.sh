#!/usr/bin/env bash
# package.conan_create: the README's Conan commands, run in the source tree: `conan create` with the
# committed profile (boost and libpq from the system, every remote disabled, a cache of its own)
# packages the headers and builds test_package/ with CMakeDeps and CMakeToolchain, and runs it.
#   conan_create.sh SOURCE_DIR WORK_DIR
set -euo pipefail
export PGFLOW_SOURCE_DIR=$1
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"

rm -rf "$work" && mkdir -p "$work"
conan_env "$work"
readme_block package.conan_create >"$work/commands.sh"
cat "$work/commands.sh"
(cd "$PGFLOW_SOURCE_DIR" && bash -euo pipefail "$work/commands.sh") 2>&1 | tee "$work/out"

version=$(cat "$PGFLOW_SOURCE_DIR/VERSION")
conan list "pgflow-cpp/$version:*" --format=json >"$work/list.json"
grep -q '"packages"' "$work/list.json" || { echo "error: the cache has no package of pgflow-cpp/$version" >&2; exit 1; }
grep -q "embedded SQL: version $version" "$work/out" || {
  echo "error: test_package did not report the embedded SQL of version $version" >&2; exit 1; }
echo "ok: conan create built and tested pgflow-cpp/$version"
