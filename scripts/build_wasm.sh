#!/usr/bin/env bash
# Builds the engine's two wasm files into pkg/ (the page downloads one):
# - webtensor_bg.wasm: SIMD128 (every current engine);
# - webtensor_relaxed_bg.wasm: the same code with the `relaxed-simd` feature, whose fused
#   multiply-add the CPU backend's GEMM uses (src/ops/sgemm_wasm.rs). src/js/engine.ts loads it
#   where the engine validates relaxed SIMD (Chromium and Firefox do; Node 20 does not).
# Each is cargo, then wasm-bindgen (the JS glue), then binaryen's wasm-opt (from npm). Both come
# from the same Rust exports, so wasm-bindgen writes the same JS glue for both; this script checks
# that, since one webtensor.js drives whichever file is loaded. The two builds differ only in this
# crate's feature, so they share every compiled dependency in one target dir; but they share the
# engine's own output file too (a wasm cdylib's name has no hash), so each build after the other
# compiles the engine again: when pkg/ is newer than every source, nothing is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
WASM="$TARGET/wasm32-unknown-unknown/release/webtensor.wasm"
RELAXED_OUT="$TARGET/relaxed-simd-pkg"
# npm's binaryen (scripts/setup.sh says why). It adds no relaxed instruction itself, but must
# accept those of the second build.
WASM_OPT="$PWD/node_modules/.bin/wasm-opt"
WASM_OPT_FLAGS=(-O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-simd --enable-relaxed-simd)

if [ -f pkg/webtensor_relaxed_bg.wasm ] && [ -f pkg/webtensor.js ] &&
  [ -z "$(find src shaders Cargo.toml Cargo.lock .cargo -path src/js -prune -o -newer pkg/webtensor_relaxed_bg.wasm -print -quit)" ]; then
  echo "build_wasm: pkg/ is newer than every source; nothing to build"
  exit 0
fi
# The relaxed build's compile (one thread: one codegen unit, LTO) runs beside the plain build's
# wasm-opt.
cargo build --lib --release --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir pkg --out-name webtensor "$WASM"
"$WASM_OPT" "${WASM_OPT_FLAGS[@]}" pkg/webtensor_bg.wasm -o pkg/webtensor_bg.wasm &
plain_opt=$!
cargo build --lib --release --target wasm32-unknown-unknown --features relaxed-simd
wasm-bindgen --target web --out-dir "$RELAXED_OUT" --out-name webtensor "$WASM"
"$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$RELAXED_OUT/webtensor_bg.wasm" -o "$RELAXED_OUT/webtensor_bg.wasm"
wait "$plain_opt"
if ! cmp -s pkg/webtensor.js "$RELAXED_OUT/webtensor.js"; then
  echo "build_wasm: the relaxed-SIMD build's JS glue differs from the plain build's" >&2
  exit 1
fi
cp "$RELAXED_OUT/webtensor_bg.wasm" pkg/webtensor_relaxed_bg.wasm
