#!/usr/bin/env bash
# Builds the engine's three wasm files into pkg/ (the page downloads one; src/js/engine.ts picks):
# - webtensor_bg.wasm: SIMD128 (every current engine);
# - webtensor_relaxed_bg.wasm: the same code with the `relaxed-simd` feature, whose fused
#   multiply-add the CPU backend's GEMM uses (src/ops/sgemm_wasm.rs). src/js/engine.ts loads it
#   where the engine validates relaxed SIMD (Chromium and Firefox do; Node 20 does not);
# - webtensor_threads_bg.wasm (+ its own glue, webtensor_threads.js): SIMD128 with atomics on a
#   shared memory, whose CPU kernels split across worker threads (src/threads.rs). Loaded where
#   workers can share memory (cross-origin isolated pages, Node). It needs a standard library
#   compiled with atomics: `-Z build-std` rebuilds it from the rust-src component. That flag is
#   nightly-only; RUSTC_BOOTSTRAP=1 lets the stable toolchain (the one scripts/setup.sh installs)
#   accept it. It builds in its own target dir, since every crate compiles with other flags.
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
THREADS_TARGET="$TARGET/threads"
# Shared memory imported from JS (the workers instantiate the module on it), up to wasm32's 4 GiB,
# and the thread-local storage symbols wasm-bindgen's thread support sets up per worker.
THREADS_RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"

if [ -f pkg/webtensor_threads_bg.wasm ] && [ -f pkg/webtensor_relaxed_bg.wasm ] && [ -f pkg/webtensor.js ] &&
  [ -z "$(find src shaders Cargo.toml Cargo.lock .cargo -path src/js -prune -o -newer pkg/webtensor_threads_bg.wasm -print -quit)" ]; then
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
# The threaded build's compile runs beside the relaxed build's wasm-opt.
"$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$RELAXED_OUT/webtensor_bg.wasm" -o "$RELAXED_OUT/webtensor_bg.wasm" &
relaxed_opt=$!
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREADS_RUSTFLAGS" cargo build --lib --release --target wasm32-unknown-unknown -Z build-std=std,panic_abort --target-dir "$THREADS_TARGET"
wait "$plain_opt"
wait "$relaxed_opt"
if ! cmp -s pkg/webtensor.js "$RELAXED_OUT/webtensor.js"; then
  echo "build_wasm: the relaxed-SIMD build's JS glue differs from the plain build's" >&2
  exit 1
fi
cp "$RELAXED_OUT/webtensor_bg.wasm" pkg/webtensor_relaxed_bg.wasm
wasm-bindgen --target web --out-dir pkg --out-name webtensor_threads "$THREADS_TARGET/wasm32-unknown-unknown/release/webtensor.wasm"
"$WASM_OPT" "${WASM_OPT_FLAGS[@]}" --enable-threads --enable-mutable-globals pkg/webtensor_threads_bg.wasm -o pkg/webtensor_threads_bg.wasm
