#!/usr/bin/env bash
# Runs every benchmark whose figures are in README.md's Performance section.
# Benchmarks measure; tests never assert timings. Run on an otherwise idle
# machine: figures taken while other builds run are inflated.
# Usage: scripts/bench.sh [core|xlsform|server|app]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(core xlsform server app)
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

[ -d ../shared/bench ] || { echo "bench: ../shared/bench is missing next to the repository" >&2; exit 1; }
scripts/install-deps.sh build postgres

if want core; then
  echo "==> expression engine and form engine (voices-core)"
  cargo bench -p voices-core --bench expr --bench engine --bench engine_latency
fi
if want xlsform; then
  echo "==> XLSForm import"
  cargo bench -p voices-xlsform --bench import
fi
if want server; then
  echo "==> sync server ingest, pull, export, bytes on the wire (SQLite and PostgreSQL with fsync on)"
  cargo bench -p voices-server --bench ingest
  VOICES_PG_FSYNC=on scripts/with-postgres.sh cargo bench -p voices-server --bench http_ingest
fi
if want app; then
  if [ -f src-tauri/benches/app_figures.rs ]; then
    echo "==> app figures"
    scripts/install-deps.sh app
    (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
    cargo bench -p voices-app --features custom-protocol --bench app_figures
  fi
fi
