#!/usr/bin/env bash
# sql.install_queue_choice: the installer's queue switch (sql/queue/choose.sql). Without the pgmq
# extension on this server: auto and builtin install the built-in queue; queue=extension and an
# unknown value fail with a message naming the problem, leaving nothing installed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

pgflow_sqltest_connect_env
db=$(pgflow_sqltest_create_db install_queue_choice)
trap 'pgflow_sqltest_drop_db "$db"' EXIT
fail() { echo "not ok - $*" >&2; exit 1; }
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }

available=$(psql -X -At -d "$db" -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgmq'")

install() {
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -d "$db" "$@" -f "$repo/sql/install.sql" 2>&1 >/dev/null
}

if out=$(install -v queue=bogus); then fail "queue=bogus was accepted"; fi
grep -q 'queue must be auto, builtin or extension, not "bogus"' <<<"$out" || fail "unexpected message: $out"
[ "$(psql -X -At -d "$db" -c "SELECT count(*) FROM pg_namespace WHERE nspname IN ('pgflow', 'pgmq')")" = 0 ] \
  || fail "a refused install left schemas behind"
ok "an unknown queue value is refused, naming it, before anything is installed"

if [ "$available" = 0 ]; then
  if out=$(install -v queue=extension); then fail "queue=extension succeeded without pgmq"; fi
  grep -q 'queue=extension requested, but pg_available_extension_versions has no pgmq 1.5 or newer' <<<"$out" \
    || fail "unexpected message: $out"
  ok "queue=extension without an available pgmq >= 1.5 fails with a clear message"

  install || fail "the automatic choice failed"
  [ "$(psql -X -At -d "$db" -c "SELECT pgflow_cpp.installed_queue()")" = builtin ] || fail "auto did not pick builtin"
  ok "queue=auto falls back to the built-in queue"
else
  echo "# pgmq is available on this server: the extension-unavailable cases do not apply"
  install -v queue=builtin || fail "queue=builtin failed"
fi

if out=$(install -v queue=extension); then fail "queue=extension over the built-in queue succeeded"; fi
grep -q 'the built-in pgmq-compatible queue is already installed' <<<"$out" || fail "unexpected message: $out"
ok "queue=extension over an installed built-in queue is refused"

install -v queue=builtin || fail "re-install with queue=builtin failed"
[ "$(psql -X -At -d "$db" -c "SELECT pgflow_cpp.installed_queue()")" = builtin ] || fail "not builtin"
ok "queue=builtin installs (again) the built-in queue"
echo "1..$n"
