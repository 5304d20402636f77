#!/usr/bin/env bash
# Runs every benchmark whose figures are in docs/performance.md.
# Benchmarks measure; tests never assert timings. Run on an otherwise idle
# machine: figures taken while other builds run are inflated.
# Usage: scripts/bench.sh [core|xlsform|server|app|workbench]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(core xlsform server app workbench)
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
  echo "==> app figures: store and engine without the window, then the real window"
  scripts/install-deps.sh app e2e
  (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
  cargo bench -p voices-app --features custom-protocol --bench app_figures
  cargo bench -p voices-app --features custom-protocol --bench sealing
  cargo build --release -p voices-app -p voices-cli --features voices-app/custom-protocol
  stress=$(mktemp --suffix=.json)
  "$CARGO_TARGET_DIR/release/voices" form stress --fields 2000 -o "$stress"
  VOICES_APP="$CARGO_TARGET_DIR/release/voices-app" STRESS_FORM="$stress" \
    xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
      tauri-driver --port 4444 --native-driver /usr/bin/WebKitWebDriver >/dev/null 2>&1 &
      driver=$!
      for _ in $(seq 50); do curl -sf http://127.0.0.1:4444/status >/dev/null 2>&1 && break; sleep 0.2; done
      node ui/e2e/perf.mjs; status=$?
      kill $driver
      exit $status'
  ls -l "$CARGO_TARGET_DIR/release/voices-app"
  echo "(.deb size: make deb, see docs/app.md)"
fi
if want workbench; then
  echo "==> the workbench: the core in WebAssembly natively and in V8, then in Chromium (console/e2e/bench-workbench.mjs)"
  scripts/install-deps.sh console wasm
  scripts/build-wasm.sh
  cargo bench -p voices-wasm --bench in_webassembly
  (cd console && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
  cargo build -p voices-cli -p voices-server --features voices-server/console
  stress=$(mktemp --suffix=.json)
  "$CARGO_TARGET_DIR/debug/voices" form stress --fields 2000 -o "$stress"
  (cd console && VOICES_SERVER_BIN="$CARGO_TARGET_DIR/debug/voices-server" STRESS_FORM="$stress" node e2e/bench-workbench.mjs)
fi
