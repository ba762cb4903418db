# shellcheck shell=bash
# Shared by the SQL test drivers: connection set-up, throwaway databases, installation.

# Exports PGHOST/PGPORT/PGUSER(/PGPASSWORD) from PGFLOW_DATABASE_URL when only the URL is given,
# then checks that the server answers; exits non-zero (never skips) when it does not.
pgflow_sqltest_connect_env() {
  if [ -z "${PGHOST:-}" ] && [ -n "${PGFLOW_DATABASE_URL:-}" ]; then
    eval "$(python3 - "$PGFLOW_DATABASE_URL" <<'PY'
import shlex, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
for k, v in (("PGHOST", u.hostname), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
    if v is not None:
        print(f"export {k}={shlex.quote(urllib.parse.unquote(str(v)))}")
PY
)"
  fi
  if ! psql -X -q -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
    echo "error: cannot reach PostgreSQL (PGHOST=${PGHOST:-unset} PGPORT=${PGPORT:-unset}); set PG* or PGFLOW_DATABASE_URL" >&2
    exit 2
  fi
}

# Creates a uniquely named database for one test and prints its name.
pgflow_sqltest_create_db() {
  local stem="$1" db
  db="pgflow_t_$(echo "$stem" | tr -c 'a-zA-Z0-9_\n' '_' | cut -c1-40)_$$"
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  echo "$db"
}

pgflow_sqltest_drop_db() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true
}

# Installs sql/install.sql with the built-in queue into database $1 (repository root $2).
pgflow_sqltest_install() {
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
    psql -X -q -v ON_ERROR_STOP=1 -v queue=builtin -d "$1" -f "$2/sql/install.sql" >/dev/null
}
