#!/usr/bin/env bash
# The main job: build Voices, start the sync server on 127.0.0.1:8470 with the
# embedded SQLite database and the example forms published, and open the app linked
# to it (a fresh provisioning code each run), so finalized interviews sync on their own.
# The server also serves the coordinator console at its address; the admin's password
# is made on first start and printed each run.
# Installs what is missing first. Runs the app under Xvfb when there is no
# display (and says so). Stops the server when the app closes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"
listen="${VOICES_LISTEN:-127.0.0.1:8470}"
data_dir="${VOICES_DATA_DIR:-$root/voices-data}"
# The app's own store sits next to the server's, so the two always belong together: a new
# server data directory never meets an app still linked to a server that is gone.
app_data_dir="${VOICES_APP_DATA_DIR:-$data_dir/app}"
project=demo

headless=0
if [ -z "${DISPLAY:-}" ]; then headless=1; fi
groups=(build app wasm)
[ "$headless" = 1 ] && groups+=(e2e)
scripts/install-deps.sh "${groups[@]}"

echo "==> building the UI, the core as WebAssembly and the coordinator console"
scripts/build-wasm.sh
(cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build)
(cd console && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build)
echo "==> building the sync server (console embedded) and the app"
# Two builds: the app's own `--features custom-protocol` (embed ui/dist). Given as
# `voices-app/custom-protocol` it would name the feature of the app's dev-dependency on
# itself, which a build of binaries leaves out, and the app would look for a Vite dev
# server on localhost:5173 instead of showing its window.
cargo build -p voices-server --features console --bins
cargo build -p voices-app --features custom-protocol --bins
bin="$CARGO_TARGET_DIR/debug"
server=("$bin/voices-server" --data-dir "$data_dir")

first_start=0
[ -f "$data_dir/voices.sqlite3" ] || first_start=1
if [ "$first_start" = 1 ]; then
  echo "==> first start: project '$project', an admin account and the example forms"
  "${server[@]}" project add "$project" --title "Demo project"
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
  VOICES_PASSWORD="$password" "${server[@]}" user add admin --role admin
  echo "$password" >"$data_dir/admin-password.txt"
  chmod 600 "$data_dir/admin-password.txt"
  for form in schemas/forms/*.json; do
    "${server[@]}" form publish "$form" --project "$project"
  done
fi

# Every run, so a data directory made before the directory existed gets it too (the same
# services again keep their version).
echo "==> the example referral directory (for the human-security form's referral step)"
"${server[@]}" referrals publish --project "$project" schemas/referrals/human-security-perceptions.json

echo "==> starting the sync server on $listen (data in $data_dir)"
"${server[@]}" serve --listen "$listen" >"$data_dir/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://$listen/health" >/dev/null 2>&1 && break
  kill -0 $server_pid 2>/dev/null || { cat "$data_dir/server.log"; echo "run: the sync server did not start" >&2; exit 1; }
  sleep 0.1
done
echo "    log: $data_dir/server.log"
echo
echo "    coordinator console: http://$listen/"
if [ -f "$data_dir/admin-password.txt" ]; then
  echo "    sign in as:          admin / $(cat "$data_dir/admin-password.txt")   (project '$project')"
else
  echo "    (this data directory has no admin-password.txt: it was made by hand; sign in with your own account)"
fi
echo

echo "==> a device for the app: its one-time provisioning code"
# A fresh one-time code each run; the app links with it at start (--provision) and then
# syncs to this server on its own. An app that is linked already ignores it.
device_out=$("${server[@]}" device add --project "$project" --enumerator "demo-enumerator" --server "http://$listen")
echo "$device_out"
code=$(printf '%s\n' "$device_out" | grep -m1 -oE '^voices1:[A-Za-z0-9_-]+$' || true)
[ -n "$code" ] || { echo "run: no provisioning code in the output of 'device add'" >&2; exit 1; }
app_args=(--data-dir "$app_data_dir" --provision "$code")

echo "==> opening the app (its data in $app_data_dir)"
if [ "$headless" = 1 ]; then
  echo "    no display (DISPLAY is unset): running the app under Xvfb; it is running but not visible."
  echo "    Set DISPLAY (or run on a desktop) to see the window. Ctrl-C stops the app and the server."
  xvfb-run -a -s "-screen 0 1280x800x24" "$bin/voices-app" "${app_args[@]}"
else
  "$bin/voices-app" "${app_args[@]}"
fi
