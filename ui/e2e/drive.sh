#!/usr/bin/env bash
# Runs inside the (virtual) display: starts tauri-driver, runs the scenarios, the sync
# story (a real voices-server on loopback) and the kill test against $VOICES_APP, stops
# the driver. Called by run.sh.
set -uo pipefail
work="$(mktemp -d)"
tauri-driver --port 4444 --native-driver /usr/bin/WebKitWebDriver >"$work/driver.log" 2>&1 &
driver_pid=$!
trap 'kill "$driver_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  curl -sf http://127.0.0.1:4444/status >/dev/null 2>&1 && break
  sleep 0.2
done
status=0
export ARTIFACTS="${ARTIFACTS:-$E2E_DIR/artifacts}"
mkdir -p "$ARTIFACTS"
node "$E2E_DIR/scenarios.mjs" || status=$?
node "$E2E_DIR/ux.mjs" || status=$?
node "$E2E_DIR/sync.mjs" || status=$?
node "$E2E_DIR/kill.mjs" || status=$?
[ "$status" -eq 0 ] || { echo "e2e: tauri-driver log:"; tail -20 "$work/driver.log"; }
exit "$status"
