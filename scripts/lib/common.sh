# shellcheck shell=bash
# Shared set-up for scripts/test, scripts/demo and scripts/bench: Debian packages, CMake build.

PGFLOW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PGFLOW_ROOT

# Debian 12 packages the project builds, tests and demos with.
PGFLOW_PACKAGES=(
  cmake ninja-build g++ clang-16 libclang-rt-16-dev clang-tidy-16 clang-format-16 pkg-config python3 python3-venv
  ca-certificates
  libboost1.81-dev libboost-json1.81-dev libpq-dev
  postgresql-15 postgresql-client-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
)
# What only scripts/test needs on top: the dashboard's browser test (Debian's Chromium, driven by
# playwright-core under node). npm is installed separately, only when missing: a Node.js that
# bundles it (NodeSource's) conflicts with Debian's npm package.
PGFLOW_TEST_PACKAGES=(chromium fonts-dejavu-core nodejs)

pgflow_log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Installs whatever of the given packages is missing (apt-get, non-interactive).
pgflow_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  pgflow_log "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing packages (${missing[*]}) and not root; install them with apt-get" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  # The Debian package starts a default cluster on port 5432; the project never uses it.
}

# Conan 2 for the test package.conan_create: the one on PATH, else one installed with pip into a
# virtual environment under build/ (Debian's pip refuses system-wide installs) and put on PATH.
pgflow_ensure_conan() {
  local venv="$PGFLOW_ROOT/build/conan/venv"
  [ -x "$venv/bin/conan" ] && export PATH="$venv/bin:$PATH"
  if command -v conan >/dev/null && conan --version | grep -q '^Conan version 2\.'; then return 0; fi
  pgflow_log "installing Conan 2 with pip into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'conan>=2.0.14,<3'
  export PATH="$venv/bin:$PATH"
}

# playwright-core for the dashboard's browser test (dashboard.browser), at the version that
# tests/dashboard/browser/package-lock.json pins, installed with `npm ci` into build/ (it drives
# Debian's Chromium; it never downloads a browser). Idempotent: nothing happens when the installed
# lock matches. Prints the node_modules directory.
pgflow_ensure_playwright() {
  local src="$PGFLOW_ROOT/tests/dashboard/browser" dir="$PGFLOW_ROOT/build/node/dashboard-browser"
  command -v npm >/dev/null || pgflow_ensure_packages npm >&2 || return 1
  if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$src/package-lock.json" "$dir/package-lock.json"; then
    echo "$dir/node_modules"; return 0
  fi
  pgflow_log "installing playwright-core with npm ci into $dir" >&2
  mkdir -p "$dir" && cp "$src/package.json" "$src/package-lock.json" "$dir/" || return 1
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2) || return 1
  echo "$dir/node_modules"
}

# pgflow_configure BUILD_DIR [cmake args...]
pgflow_configure() {
  local dir="$1"; shift
  cmake -S "$PGFLOW_ROOT" -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2; return 1; }
  # Warnings are worth seeing (one says the committed embedded SQL is out of date with sql/).
  grep -A6 '^CMake Warning' "$dir.configure.log" >&2 || true
}

pgflow_build() {
  local dir="$1"; shift
  cmake --build "$dir" -j"${PGFLOW_JOBS:-2}" "$@"
}

# pgflow 0.8.1's published SQL (npm @pgflow/core@0.8.1, its migrations in name order) into database
# $1, over pgflow-cpp's built-in queue and the plain-PostgreSQL stand-in of Supabase's realtime; the
# package is downloaded once into directory $2. For comparisons (scripts/bench,
# benchmarks/sql/statement_profile.sh).
pgflow_install_pgflow_081() {
  local db="$1" dir="$2" repo f
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [ ! -f "$dir/pgflow-core-0.8.1.tgz" ]; then
    command -v npm >/dev/null || pgflow_ensure_packages npm
    pgflow_log "downloading @pgflow/core@0.8.1 (npm pack)"
    (cd "$dir" && npm pack --silent @pgflow/core@0.8.1 >/dev/null)
  fi
  rm -rf "$dir/pgflow-core" && mkdir -p "$dir/pgflow-core"
  tar -xzf "$dir/pgflow-core-0.8.1.tgz" -C "$dir/pgflow-core"
  # Only the queue part of our install (the files install.sql includes for the built-in queue).
  awk '/^\\if :pgflow_builtin_queue/ {inq=1; next} /^\\(else|endif)/ {inq=0} inq && /^\\ir / {print $2}' \
    "$repo/sql/install.sql" | while read -r f; do
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$repo/sql/$f" >/dev/null
  done
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$repo/benchmarks/baseline/realtime_stand_in.sql" >/dev/null
  for f in $(ls "$dir/pgflow-core/package/dist/supabase/migrations"/*.sql | sort); do
    # The queue is already there; pgflow's first migration would CREATE EXTENSION pgmq.
    sed -E '/^CREATE EXTENSION IF NOT EXISTS "pgmq"/d' "$f" | psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f - >/dev/null
  done
}
