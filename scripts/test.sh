#!/usr/bin/env bash
# Runs every Voices test: formatting and lints, the whole Cargo workspace
# (unit, integration, conformance, PostgreSQL against a throwaway server), and
# the end-to-end tests in the real app window under Xvfb and of the coordinator
# console in Chromium. Installs what is
# missing first. Every step runs even when an earlier one failed, so one run
# shows every problem; the last line sums up all runners.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"
export CARGO_TERM_COLOR=never
artifacts="$root/test-artifacts"
mkdir -p "$artifacts"
log="$artifacts/test.log"
: >"$log"
failed_steps=()

# One feature set for every cargo invocation, so tests, the app binary the
# end-to-end tests drive and the server binary the story tests spawn are built
# once (custom-protocol embeds ui/dist in the app, console embeds console/dist in the server).
features=(--workspace --features voices-app/custom-protocol,voices-server/console)

step() {
  local name=$1; shift
  echo; echo "==> $name"
  local started=$SECONDS
  if "$@" 2>&1 | tee -a "$log"; then
    echo "<== $name: ok ($((SECONDS - started)) s)"
  else
    echo "<== $name: FAILED ($((SECONDS - started)) s)"
    failed_steps+=("$name")
  fi
}

if [ ! -d ../shared/conformance ]; then
  echo "test: ../shared/conformance is missing next to the repository ($root/../shared); the conformance tests need it" >&2
  exit 1
fi

step "install missing dependencies" scripts/install-deps.sh build app e2e postgres xlsform console wasm
# voices-core as WebAssembly (wasm/pkg): the console bundles it, the equivalence test runs it.
step "build the WebAssembly core (wasm/pkg)" scripts/build-wasm.sh
step "build the UI (ui/dist)" bash -c 'cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build'
step "UI unit tests (vitest)" bash -c 'cd ui && npm test'
step "build the console (console/dist)" bash -c 'cd console && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build'
step "console unit tests (vitest)" bash -c 'cd console && npm test'
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy "${features[@]}" --all-targets --quiet -- -D warnings
step "cargo build (all targets)" cargo build "${features[@]}" --all-targets --quiet
step "cargo test (with a throwaway PostgreSQL)" scripts/with-postgres.sh cargo test "${features[@]}" --no-fail-fast
# The conformance suites print their figures; show them (the runs above captured them).
step "conformance figures" bash -c 'cargo test -q "$@" --test conformance --test pyxform_cases -- --nocapture 2>&1 | grep -oE "(openrosa|javarosa|pyxform): [0-9]+ passed, [0-9]+ failed.*"' _ "${features[@]}"
step "pyxform differential (real workbooks)" scripts/xlsform-differential.sh "${features[@]}"
step "console end-to-end tests in Chromium" env VOICES_SERVER_BIN="$CARGO_TARGET_DIR/debug/voices-server" VOICES_APP_BIN="$CARGO_TARGET_DIR/debug/voices-app" VOICES_CLI_BIN="$CARGO_TARGET_DIR/debug/voices" ARTIFACTS="$artifacts/console-e2e" console/e2e/run.sh
step "end-to-end tests in the real app window" env VOICES_APP_BIN="$CARGO_TARGET_DIR/debug/voices-app" ARTIFACTS="$artifacts/e2e" ui/e2e/run.sh

# One closing line over every runner: cargo's "test result:" lines, the plain
# "e2e: N passed, N failed" lines of the app's and the console's end-to-end runners
# ("console-e2e: …"). The pyxform differential's "xlsform-differential: N passed, N failed"
# is a figure like the conformance ones, not a count of test failures: its known
# differences are listed, and the step itself fails on any new one.
python3 - "$log" "${#failed_steps[@]}" <<'PY'
import re, sys
passed = failed = skipped = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", line)
    if m:
        passed += int(m[1]); failed += int(m[2]); skipped += int(m[3]); continue
    m = re.match(r"^(?:e2e|console-e2e): (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", line)
    if m:
        passed += int(m[1]); failed += int(m[2]); skipped += int(m[3] or 0)
if failed == 0 and int(sys.argv[2]) > 0:
    failed = 1  # a step failed without a test runner counting it (build, lint, install)
print(f"all: {passed} passed, {failed} failed, {skipped} skipped")
PY
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf 'failed steps: %s\n' "${failed_steps[*]}"
  exit 1
fi
