#!/usr/bin/env bash
# End-to-end tests of the enumerator app in its real window (see ui/e2e/run.sh).
set -euo pipefail
exec "$(dirname "$0")/../ui/e2e/run.sh" "$@"
