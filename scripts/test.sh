#!/usr/bin/env bash
# Runs every test layer (the README's test command; .ci/run calls it too):
#   1. native: the op suite on the CPU backend and on wgpu/Vulkan (lavapipe without a GPU)
#   2. browser: the same suite compiled to wasm, in headless Chromium on WebGPU (Dawn on
#      SwiftShader) and in headless Firefox ESR on WebGPU (Firefox's wgpu-based implementation)
#   3. JS API: the npm package's TF.js-style API in Node (CPU), differential against TF.js 4.22
#   4. pages: the JS API suite and the demo in headless Chromium (playwright-core), WebGPU and CPU
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# wgpu's Vulkan loader warns without a runtime dir; give it a private one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# A machine set up by scripts/setup.sh has lavapipe: a missing GPU adapter is a failure here.
export WEBTENSOR_REQUIRE_GPU="${WEBTENSOR_REQUIRE_GPU:-1}"

echo "== 1/4 native tests (CPU backend and wgpu on Vulkan)"
cargo test --all-targets

echo "== 2/4 browser tests (wasm in headless Chromium and Firefox, WebGPU)"
# The runner gives the whole browser run 20 s by default; the suite trains small nets on a
# software GPU, so allow it more.
export WASM_BINDGEN_TEST_TIMEOUT=600
CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome --test web -- --nocapture
GECKODRIVER="$(command -v geckodriver)" wasm-pack test --headless --firefox --test web -- --nocapture

echo "== 3/4 JS API tests in Node (CPU backend, differential vs TF.js)"
npm run build
node --test tests/js/

echo "== 4/4 page tests in headless Chromium (JS API suite on WebGPU and CPU, demo)"
node --test tests/browser/
