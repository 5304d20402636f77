# Voices — the two commands are `make run` and `make test` (see README.md).
# Each installs what it needs when it is missing.

export CARGO_TARGET_DIR ?= /var/tmp/voices-target
SHELL := /bin/bash

.PHONY: run test lint fmt bench deps deb

## Build everything, start the sync server on 127.0.0.1:8470 with embedded
## SQLite and the example forms, and open the app.
run:
	scripts/run.sh

## Every test: lints, unit, integration, conformance, PostgreSQL, end-to-end.
test:
	scripts/test.sh

deps:
	scripts/install-deps.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Benchmarks whose figures are in docs/performance.md.
bench:
	scripts/bench.sh

## A Debian package of the app (UI embedded) in $CARGO_TARGET_DIR/release/bundle/deb/.
## The Tauri CLI comes from npm; the paths are given so it does not have to guess them.
deb:
	scripts/install-deps.sh build app
	cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; }
	TAURI_FRONTEND_PATH=$(CURDIR)/ui TAURI_APP_PATH=$(CURDIR)/src-tauri ui/node_modules/.bin/tauri build --bundles deb
