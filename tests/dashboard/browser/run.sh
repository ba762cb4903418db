#!/usr/bin/env bash
# dashboard.browser: prepares a database with runs in every state and a `pgflow dashboard` serving
# it, then runs test.mjs (playwright-core driving Debian's Chromium) against it.
#   run.sh PGFLOW_PROGRAM SOURCE_DIR WORK_DIR
# The server is the one the environment names (PGFLOW_DATABASE_URL, as scripts/test exports it);
# the test works in a database of its own. Fails, never skips, when anything it needs is missing.
set -euo pipefail
cli=$1 src=$2 work=$3
source "$src/scripts/lib/common.sh"
source "$src/scripts/lib/cluster.sh"  # pgflow_free_port

fail() { echo "dashboard.browser: $*" >&2; exit 1; }
[ -n "${PGFLOW_DATABASE_URL:-}" ] || fail "PGFLOW_DATABASE_URL is not set: start a cluster (scripts/lib/cluster.sh) first"
[ -x "$cli" ] || fail "$cli is not built"
command -v node >/dev/null || fail "node not found: apt-get install nodejs (scripts/lib/common.sh lists it)"
command -v psql >/dev/null || fail "psql not found: apt-get install postgresql-client-15"
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || fail "$chromium not found: apt-get install chromium (scripts/lib/common.sh lists it)"
modules=$(pgflow_ensure_playwright) || fail "could not install playwright-core with npm (tests/dashboard/browser/package-lock.json)"

# A database of the test's own, on the server PGFLOW_DATABASE_URL names.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
db=pgflow_dashboard_browser
base_url=${PGFLOW_DATABASE_URL%%\?*}
db_url="${base_url%/*}/$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$PGFLOW_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
PGFLOW_DATABASE_URL="$db_url" "$cli" install >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" -f "$src/tests/dashboard/browser/seed.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" -f "$src/tests/dashboard/browser/runs.sql" >/dev/null

mkdir -p "$work"
port=$(pgflow_free_port)
log="$work/dashboard.log"
# With a token, as a dashboard listening beyond loopback has one: the page signs in through
# /?token= (a cookie) and every fetch and event stream must carry it.
token="browser-test-$RANDOM$RANDOM"
PGFLOW_DATABASE_URL="$db_url" "$cli" dashboard --listen "127.0.0.1:$port" --token "$token" --allow-actions >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
# Up once its port accepts connections (a bash /dev/tcp probe: no process per try).
up=0
for _ in $(seq 1 200); do
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; fail "pgflow dashboard exited before it answered"; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
[ "$up" = 1 ] || { cat "$log" >&2; fail "pgflow dashboard did not listen on 127.0.0.1:$port within 20 s"; }

BASE_URL="http://127.0.0.1:$port" DASHBOARD_TOKEN="$token" DATABASE_URL="$db_url" SCREENSHOTS="$work/screenshots" \
  PLAYWRIGHT_MODULES="$modules" CHROMIUM="$chromium" node "$src/tests/dashboard/browser/test.mjs"
echo "screenshots: $work/screenshots"
