#!/usr/bin/env bash
# Installs what building and serving need (`setup.sh build`: the wasm32 target, wasm-bindgen-cli,
# the npm packages) or, by default, that plus what the tests and the benchmark drive (the browsers,
# lavapipe, wasm-pack for `wasm-pack test`, geckodriver), on a fresh Debian machine of this
# project's kind. `npm start` (scripts/start.sh) runs the build mode, which installs nothing else:
# on a bare 2-core machine wasm-bindgen-cli's compile is the slowest part of a cold start.
# Idempotent: each step is skipped when the right version is already there. Nothing here
# downloads a binary from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-all}"
case "$MODE" in build | all) ;; *) echo "setup: unknown mode '$MODE' (build or all)" >&2; exit 2 ;; esac

WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
# Must equal the `wasm-bindgen` version pinned in Cargo.toml (and so in Cargo.lock).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "setup: cannot read the wasm-bindgen pin from Cargo.toml" >&2; exit 1; }

log() { echo "[setup] $*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Debian packages: the browsers (Chromium with its driver, and Firefox ESR: a second WebGPU
# engine) and lavapipe (a software Vulkan driver) so native wgpu tests have an adapter on
# GPU-less machines.
APT_PKGS=(chromium chromium-driver firefox-esr mesa-vulkan-drivers)
[ "$MODE" = all ] || APT_PKGS=()
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "$MODE" = build ]; then
  log "build only: the browsers, lavapipe and geckodriver (test tools) are skipped"
elif [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# The threaded wasm build recompiles the standard library with atomics (scripts/build_wasm.sh).
if ! rustup component list --installed | grep -q '^rust-src'; then
  log "rustup component add rust-src"
  rustup component add rust-src
fi

# wasm-pack runs the browser tests only; scripts/build_wasm.sh calls cargo and wasm-bindgen itself.
if [ "$MODE" = all ] && [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
  log "cargo install wasm-pack $WASM_PACK_VERSION"
  cargo install --locked wasm-pack --version "$WASM_PACK_VERSION"
fi

# Not --locked: one of its locked dependencies is missing from the registry; the exact version
# still resolves a working build. No default features: they add a TLS stack (rustls, ring) that
# only downloads need; its test runner talks to the local WebDriver over plain HTTP. A debug build:
# it compiles in 88 s instead of 168 s (2 cores), and still processes the engine's module in 2 s.
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features --debug --force
fi

# Firefox's WebDriver, from crates.io (wasm-pack would otherwise try to download one).
if [ "$MODE" = all ] && [ "$(geckodriver --version 2>/dev/null | head -n1 | cut -d' ' -f2)" != "$GECKODRIVER_VERSION" ]; then
  log "cargo install geckodriver $GECKODRIVER_VERSION"
  cargo install --locked geckodriver --version "$GECKODRIVER_VERSION"
fi

# npm packages (binaryen's wasm-opt, playwright-core, typescript): Debian's binaryen 108 breaks
# wasm-bindgen 0.2.130 modules, so wasm-opt comes from npm's binaryen via node_modules/.bin.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
else
  log "node_modules up to date"
fi
log "done"
