#!/usr/bin/env bash
# End-to-end tests of the coordinator console in Debian's Chromium (playwright-core, no
# browser download) against a real voices-server. Installs Chromium and the npm packages
# when missing, builds the console and (unless VOICES_SERVER_BIN and VOICES_APP_BIN are
# given, as scripts/test.sh does) the server with the console embedded and the enumerator
# app, whose sync without a window receives what the workbench publishes. Extra arguments
# pick scenarios by name. Prints `console-e2e: N passed, N failed` last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
console="$(dirname "$here")"
root="$(dirname "$console")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"

# Paths given relative to where the script was started from.
for v in ARTIFACTS SCREENSHOTS VOICES_SERVER_BIN VOICES_APP_BIN VOICES_CLI_BIN; do
  [ -n "${!v:-}" ] && export "$v=$(realpath -m "${!v}")"
done
"$root/scripts/install-deps.sh" console wasm
cd "$console"
{ [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; } || npm ci --no-audit --no-fund
if [ -z "${VOICES_SERVER_BIN:-}" ]; then
  "$root/scripts/build-wasm.sh"
  npm run build
  (cd "$root" && cargo build -p voices-server --features console --bin voices-server)
  export VOICES_SERVER_BIN="$CARGO_TARGET_DIR/debug/voices-server"
fi
if [ -z "${VOICES_APP_BIN:-}" ]; then
  # The app embeds ui/dist (feature custom-protocol, as scripts/test.sh builds it).
  (cd "$root/ui" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
  (cd "$root" && cargo build -p voices-app --features custom-protocol --bin voices-app)
  export VOICES_APP_BIN="$CARGO_TARGET_DIR/debug/voices-app"
fi
# `voices keygen` makes the coordinator's identity in the sealed-answers scenario.
if [ -z "${VOICES_CLI_BIN:-}" ]; then
  export VOICES_CLI_BIN="$CARGO_TARGET_DIR/debug/voices"
  [ -x "$VOICES_CLI_BIN" ] || (cd "$root" && cargo build -p voices-cli --bin voices)
fi
exec node "$here/run.mjs" "$@"
