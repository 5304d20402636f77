#!/usr/bin/env bash
# Runs inside the (virtual) display: starts tauri-driver, runs the scenarios, the sync
# story and the matching story (a real voices-server on loopback), the send-back stories
# (with the console in Chromium; cutpull.mjs through a proxy that cuts the link) and the
# kill test against $VOICES_APP, stops the driver. Called by run.sh with the names of the
# stories to run (all when none).
set -uo pipefail
work="$(mktemp -d)"
# Free ports (not the fixed 4444/4445), so two runs on one machine never drive each
# other's app.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
native_port=$(free_port)
while [ "$native_port" = "$port" ]; do native_port=$(free_port); done
tauri-driver --port "$port" --native-port "$native_port" --native-driver /usr/bin/WebKitWebDriver >"$work/driver.log" 2>&1 &
driver_pid=$!
trap 'kill "$driver_pid" 2>/dev/null; rm -rf "$work"' EXIT
export TAURI_DRIVER_URL="http://127.0.0.1:$port"
for _ in $(seq 50); do
  curl -sf "$TAURI_DRIVER_URL/status" >/dev/null 2>&1 && break
  sleep 0.2
done
status=0
export ARTIFACTS="${ARTIFACTS:-$E2E_DIR/artifacts}"
mkdir -p "$ARTIFACTS"
# Every story in this order; names given as arguments pick the stories whose file name
# contains one of them (`run.sh sendback cut`).
stories=(scenarios lock ux sync matching referral assent sendback cutpull kill)
ran=0
for story in "${stories[@]}"; do
  if (($#)); then
    picked=0
    for name in "$@"; do [[ "$story.mjs" == *"$name"* ]] && picked=1; done
    ((picked)) || continue
  fi
  ran=$((ran + 1))
  node "$E2E_DIR/$story.mjs" || status=$?
done
if ((ran == 0)); then
  echo "e2e: no story's name contains any of: $* (stories: ${stories[*]})" >&2
  status=1
fi
[ "$status" -eq 0 ] || { echo "e2e: tauri-driver log:"; tail -20 "$work/driver.log"; }
exit "$status"
