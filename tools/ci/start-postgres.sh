#!/usr/bin/env bash
# Starts a local PostgreSQL for the storage tests and sets FHIRCASE_TEST_POSTGRES.
# Idempotent: installs only when missing, starts the cluster only when it is down, creates the
# role and database only when absent. Needs root (CI runs as root). Two ways to use it:
#   source tools/ci/start-postgres.sh            # exports FHIRCASE_TEST_POSTGRES in this shell
#   eval "$(tools/ci/start-postgres.sh)"         # same, from the printed export line
# When sourced it runs itself as a child process, so its `set -e` never leaks into the caller.

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  if _fhircase_pg_line=$(bash "${BASH_SOURCE[0]}"); then
    eval "$_fhircase_pg_line"
    echo "$_fhircase_pg_line"
    unset _fhircase_pg_line
    return 0
  else
    echo "error: could not start PostgreSQL for the storage tests (tools/ci/start-postgres.sh)" >&2
    unset _fhircase_pg_line
    return 1
  fi
fi

set -euo pipefail
user=fhircase
password=fhircase
database=fhircase
port=5432

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt has never fetched them, or when the install fails on stale ones.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*Packages*' 2>/dev/null | head -n 1)" ]; then
    apt-get update -q >&2
  fi
  apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
fi

# Debian's package creates one cluster (15/main on bookworm); use the newest installed version.
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=main
if [ ! -d "/etc/postgresql/$version/$cluster" ]; then
  pg_createcluster "$version" "$cluster" -p "$port" >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c && $4 ~ /online/ {found=1} END {exit !found}'; then
  pg_ctlcluster "$version" "$cluster" start >&2
fi

# The first start can take a few seconds before it accepts connections.
for _ in $(seq 1 30); do
  if su postgres -c "psql -p $port -tAc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 1
done

# CREATEDB lets the tests give each test class its own database.
su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -q" >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN PASSWORD '$password' CREATEDB;
  ELSE
    ALTER ROLE $user LOGIN PASSWORD '$password' CREATEDB;
  END IF;
END
\$\$;
SQL
if [ "$(su postgres -c "psql -p $port -tAc \"select 1 from pg_database where datname = '$database'\"")" != "1" ]; then
  su postgres -c "createdb -p $port -O $user $database" >&2
fi

echo "export FHIRCASE_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=$user;Password=$password;Database=$database'"
