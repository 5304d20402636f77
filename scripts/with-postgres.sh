#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: initdb into a temporary
# directory as a non-root user, listen on 127.0.0.1 at a free port, export
# VOICES_TEST_DATABASE_URL, stop and delete everything afterwards.
# Usage: scripts/with-postgres.sh COMMAND [ARGS…]
# fsync is off (throwaway data) unless VOICES_PG_FSYNC=on, which benchmarks set.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "with-postgres: PostgreSQL server binaries not found (run scripts/install-deps.sh postgres)" >&2; exit 1; }

# PostgreSQL refuses to run as root: use a dedicated unprivileged account.
pguser=voices-pg
if [ "$(id -u)" -eq 0 ]; then
  id "$pguser" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pguser"
  run_pg() { runuser -u "$pguser" -- "$@"; }
else
  run_pg() { "$@"; }
fi

dir=$(mktemp -d /tmp/voices-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown "$pguser" "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cleanup() {
  run_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

run_pg "$bindir/initdb" -D "$dir/data" -U voices --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
run_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=${VOICES_PG_FSYNC:-off}" start >/dev/null
run_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U voices voices

export VOICES_TEST_DATABASE_URL="postgres://voices@127.0.0.1:$port/voices"
export VOICES_TEST_PG_BINDIR="$bindir"
# The data directory, for tests that search the database's files (the sealed-answer test).
export VOICES_TEST_PG_DATADIR="$dir/data"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
