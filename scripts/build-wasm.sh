#!/usr/bin/env bash
# Builds voices-core for the browser: the wasm/ crate for wasm32-unknown-unknown (cargo
# profile `wasm`: small), then wasm-bindgen's JavaScript glue (`--target web`) into wasm/pkg/.
# The console bundles wasm/pkg (its workbench), so voices-server embeds the module with
# console/dist. scripts/install-deps.sh wasm installs the target and the wasm-bindgen CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"

bindgen=$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")
want=$(scripts/wasm-bindgen-version.sh)
have=$("$bindgen" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "build-wasm: wasm-bindgen $want is needed (found ${have:-none}); run scripts/install-deps.sh wasm" >&2
  exit 1
fi

cargo build -p voices-wasm --target wasm32-unknown-unknown --profile wasm --quiet
"$bindgen" --target web --out-dir wasm/pkg --out-name voices_core \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/voices_wasm.wasm"
size=$(stat -c %s wasm/pkg/voices_core_bg.wasm)
gz=$(gzip -9 -c wasm/pkg/voices_core_bg.wasm | wc -c)
echo "build-wasm: wasm/pkg/voices_core_bg.wasm $((size / 1024)) KiB, $((gz / 1024)) KiB gzipped"
