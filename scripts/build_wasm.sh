#!/usr/bin/env bash
# Builds the engine's two wasm files into pkg/ (the page downloads one):
# - webtensor_bg.wasm: SIMD128 (every current engine);
# - webtensor_relaxed_bg.wasm: the same code with relaxed SIMD, whose fused multiply-add the CPU
#   backend's GEMM uses (src/ops/sgemm_wasm.rs). src/js/engine.ts loads it where the engine
#   validates relaxed SIMD (Chromium does by default; Node 20 does not).
# Both come from the same Rust source, so wasm-bindgen writes the same JS glue for both; this script
# checks that, since one webtensor.js drives whichever file is loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
wasm-pack build --release --target web --out-dir pkg --out-name webtensor
# Its own target dir: other rustflags would otherwise rebuild the plain build's every time.
RELAXED_OUT="$TARGET/relaxed-simd/pkg"
CARGO_TARGET_DIR="$TARGET/relaxed-simd" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack build --release --target web --out-dir "$(realpath -m "$RELAXED_OUT")" --out-name webtensor
if ! cmp -s pkg/webtensor.js "$RELAXED_OUT/webtensor.js"; then
  echo "build_wasm: the relaxed-SIMD build's JS glue differs from the plain build's" >&2
  exit 1
fi
cp "$RELAXED_OUT/webtensor_bg.wasm" pkg/webtensor_relaxed_bg.wasm
