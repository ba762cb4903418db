# shellcheck shell=bash
# Shared by the package tests: the README's commands, run as written.

# readme_block NAME: the fenced code block that follows `<!-- test: NAME -->` in README.md.
readme_block() {
  awk -v marker="<!-- test: $1 -->" '
    index($0, marker) == 1 { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$PGFLOW_SOURCE_DIR/README.md" | grep . || {
    echo "error: README.md has no code block after <!-- test: $1 -->" >&2
    return 1
  }
}

# run_first_flow WORK_DIR DB: runs WORK_DIR/commands.sh (README commands that build the first flow as
# app.cpp and run it) in WORK_DIR/project against database DB, and checks what the flow printed.
run_first_flow() {
  cat "$1/commands.sh"
  (cd "$1/project" && PGFLOW_DATABASE_URL="" PGDATABASE="$2" bash -euo pipefail "$1/commands.sh") | tee "$1/out"
  grep -qx 'Hello, world!' "$1/out" || { echo "error: the program did not print Hello, world!" >&2; return 1; }
}

# conan_env WORK_DIR: Conan on PATH (scripts/test installs it into build/conan/venv) with its own
# cache under WORK_DIR, every remote disabled so that nothing is fetched.
conan_env() {
  command -v conan >/dev/null || PATH="$PGFLOW_SOURCE_DIR/build/conan/venv/bin:$PATH"
  if ! command -v conan >/dev/null; then
    echo "error: conan not found; scripts/test installs it (pip, into build/conan/venv)" >&2
    return 1
  fi
  export CONAN_HOME="$1/conan-home"
  mkdir -p "$CONAN_HOME"
  # conan create writes test_package's build and CMakeUserPresets.json next to the sources unless told.
  printf '%s\n' "tools.cmake.cmake_layout:test_folder=$1/test_package" \
    "tools.cmake.cmaketoolchain:user_presets=" >"$CONAN_HOME/global.conf"
  conan remote disable '*' >/dev/null
}
