#!/usr/bin/env bash
# The wasm-bindgen version Cargo.lock holds: the CLI must be exactly this one.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
