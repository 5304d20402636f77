#!/usr/bin/env bash
# Installs what Voices needs to build, run and test, only where it is missing, so
# `make run` and `make test` work on a fresh Debian/Ubuntu machine as root.
# Usage: scripts/install-deps.sh [build] [app] [e2e] [postgres] [xlsform] [console] [wasm] [fuzz]   (default: all)
set -euo pipefail

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build app e2e postgres xlsform console wasm)
want() { local g; for g in "${groups[@]}"; do [ "$g" = "$1" ] && return 0; done; return 1; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing_pkgs=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing_pkgs+=("$1"); }

if want build; then
  command -v cargo >/dev/null || { echo "install-deps: cargo not found; install Rust (rustup) first" >&2; exit 1; }
  need_pkg pkg-config; need_pkg build-essential; need_pkg ca-certificates; need_pkg git; need_pkg curl
  # The app's store is SQLCipher (rusqlite's bundled-sqlcipher: the C source is bundled, its
  # crypto is the system's libcrypto, headers included). A build of the whole workspace
  # links the server with it too (Cargo unifies features), so every build needs it.
  need_pkg libssl-dev
  command -v python3 >/dev/null || need_pkg python3
fi
if want app; then
  for p in libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev; do need_pkg "$p"; done
  command -v node >/dev/null || need_pkg nodejs
  command -v npm >/dev/null || need_pkg npm
fi
if want e2e; then
  # x11-apps: xwd, for screenshots of the app window.
  for p in xvfb xauth x11-utils x11-apps webkit2gtk-driver dbus-x11 at-spi2-core; do need_pkg "$p"; done
fi
if want console; then
  # The coordinator console is built with npm; its end-to-end tests drive Debian's Chromium
  # (playwright-core with the system browser: nothing is downloaded).
  command -v node >/dev/null || need_pkg nodejs
  command -v npm >/dev/null || need_pkg npm
  need_pkg chromium
fi
if want postgres; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkg postgresql
fi

if want xlsform; then
  # The pyxform differential test: a venv for pyxform, Java for ODK Validate.
  python3 -c 'import ensurepip, venv' 2>/dev/null || need_pkg python3-venv
  command -v java >/dev/null || need_pkg default-jre-headless
fi

if [ ${#missing_pkgs[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing_pkgs[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
fi

if want e2e && ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "install-deps: cargo install tauri-driver"
  cargo install tauri-driver --locked
fi
if want wasm; then
  # The console's workbench runs voices-core as WebAssembly (scripts/build-wasm.sh): the
  # target, and the wasm-bindgen CLI of exactly the version Cargo.lock holds. The CLI lands
  # in ~/.cargo/bin, kept between runs like tauri-driver; a cold install takes a few minutes.
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "install-deps: rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  want_bindgen=$("$(dirname "$0")/wasm-bindgen-version.sh")
  bindgen=$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")
  if [ "$("$bindgen" --version 2>/dev/null | awk '{print $2}')" != "$want_bindgen" ]; then
    echo "install-deps: cargo install wasm-bindgen-cli $want_bindgen"
    # --locked first; a registry mirror behind the CLI's own lock file falls back to the
    # newest compatible dependencies.
    cargo install wasm-bindgen-cli --version "=$want_bindgen" --locked --force \
      || cargo install wasm-bindgen-cli --version "=$want_bindgen" --force
  fi
fi
if want fuzz; then
  # cargo-fuzz builds with nightly-only flags (sanitizer coverage): the fuzz targets, and
  # only they, use the nightly toolchain (`cargo +nightly fuzz run …`); `make test` stays
  # on stable and never needs this group.
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "install-deps: rustup toolchain install nightly --profile minimal"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "install-deps: cargo install cargo-fuzz"
    cargo install cargo-fuzz --locked
  fi
fi
exit 0
