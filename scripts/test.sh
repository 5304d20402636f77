#!/usr/bin/env bash
# Runs every Voices test: formatting and lints, the whole Cargo workspace
# (unit, integration, conformance, PostgreSQL against a throwaway server),
# and the end-to-end tests in the real app window under Xvfb.
# Installs what is missing first. Prints one summary line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"
export CARGO_TERM_COLOR=never
log_dir="${VOICES_TEST_LOG_DIR:-test-artifacts}"
mkdir -p "$log_dir"
log="$log_dir/test.log"
: >"$log"

[ -d ../shared/conformance ] || { echo "test: ../shared/conformance is missing next to the repository; the conformance tests need it" >&2; exit 1; }

step() { echo; echo "==> $*"; }

step "installing missing dependencies"
scripts/install-deps.sh build app e2e postgres

if [ -f ui/package.json ]; then
  step "building the UI (ui/dist)"
  (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build) 2>&1 | tee -a "$log"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (workspace, with a throwaway PostgreSQL)"
scripts/with-postgres.sh cargo test --workspace --no-fail-fast 2>&1 | tee -a "$log"

for e2e in scripts/e2e.sh; do
  if [ -x "$e2e" ]; then
    step "end-to-end tests in the real app window ($e2e)"
    "$e2e" 2>&1 | tee -a "$log"
  fi
done

# One closing line over every runner: cargo's "test result:" lines and the
# plain "N passed, N failed" lines the other runners print.
python3 - "$log" <<'PY'
import re, sys
passed = failed = skipped = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", line)
    if m:
        passed += int(m[1]); failed += int(m[2]); skipped += int(m[3]); continue
    m = re.match(r"^e2e: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", line)
    if m:
        passed += int(m[1]); failed += int(m[2]); skipped += int(m[3] or 0)
print(f"all: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
