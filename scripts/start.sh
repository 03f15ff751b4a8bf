#!/usr/bin/env bash
# The README's main command (`npm start`): installs what building needs, builds the package, serves
# the demo. On a bare 2-core machine the slow parts are the wasm-bindgen-cli install and the engine's
# first compile; each has stretches that keep only one core busy, so they run side by side: the
# engine's cargo build starts first, and build_wasm.sh's own cargo call then finds it done.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo build --lib --release --target wasm32-unknown-unknown --quiet &
engine=$!
if ! bash scripts/setup.sh build; then
  kill "$engine" 2>/dev/null || true
  exit 1
fi
# A failed compile is reported again, with its errors, by the build below.
wait "$engine" || true
npm run build
exec node scripts/serve.mjs
