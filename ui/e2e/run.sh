#!/usr/bin/env bash
# End-to-end tests of the real built Voices app: tauri-driver + WebKitWebDriver under Xvfb.
# Installs what it needs when missing (Debian packages, tauri-driver, npm packages),
# builds the UI, the app with the UI embedded and voices-server with the console, then
# runs ui/e2e/scenarios.mjs, lock.mjs, ux.mjs, sync.mjs, matching.mjs, referral.mjs, assent.mjs,
# sendback.mjs, cutpull.mjs and kill.mjs. Arguments pick stories by name: `run.sh sendback`
# runs those whose file name contains `sendback` (all when none is given).
# Screenshots go to ui/e2e/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ui="$(dirname "$here")"
root="$(dirname "$ui")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

need_pkgs=()
for p in libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev xvfb xauth x11-utils x11-apps webkit2gtk-driver; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  echo "e2e: installing ${need_pkgs[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_pkgs[@]}"
fi
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "e2e: installing tauri-driver"
  cargo install tauri-driver --locked
fi
if [ ! -d "$ui/node_modules" ]; then
  (cd "$ui" && npm ci --no-audit --no-fund)
fi

# scripts/test.sh builds the app once for all tests and passes it in VOICES_APP_BIN.
if [ -n "${VOICES_APP_BIN:-}" ]; then
  app="$VOICES_APP_BIN"
  [ -x "$app" ] || { echo "e2e: VOICES_APP_BIN=$app is not an executable" >&2; exit 1; }
else
  (cd "$ui" && npm run build)
  # The server with the coordinator console (the send-back story drives it in Chromium).
  "$root/scripts/install-deps.sh" console wasm
  (cd "$root/console" && { { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; } || npm ci --no-audit --no-fund; })
  "$root/scripts/build-wasm.sh"
  (cd "$root/console" && npm run build)
  cargo build -p voices-server --features console
  # The app's own `--features custom-protocol` (`voices-app/custom-protocol` would name
  # its dev-dependency on itself, which a build of binaries leaves out: no UI embedded).
  cargo build -p voices-app --features custom-protocol
  app="$CARGO_TARGET_DIR/debug/voices-app"
fi

mkdir -p "$here/artifacts"

run_under_display() {
  if [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1; then
    "$@"
  else
    echo "e2e: no display, running under Xvfb"
    xvfb-run -a -s "-screen 0 1280x800x24" "$@"
  fi
}

# Under the display: tauri-driver, then the scenarios and the kill test (drive.sh).
export VOICES_APP="$app" E2E_DIR="$here"
run_under_display bash "$here/drive.sh" "$@"
