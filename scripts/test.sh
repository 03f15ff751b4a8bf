#!/usr/bin/env bash
# Runs every test layer (the README's test command; .ci/run calls it too):
#   1. native: the op suite on the CPU backend and on wgpu/Vulkan (lavapipe without a GPU)
#   2. browser: the same suite compiled to wasm, in headless Chromium on WebGPU (SwiftShader)
#   3. page: the demo driven in headless Chromium by playwright-core
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# wgpu's Vulkan loader warns without a runtime dir; give it a private one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# A machine set up by scripts/setup.sh has lavapipe: a missing GPU adapter is a failure here.
export WEBTENSOR_REQUIRE_GPU="${WEBTENSOR_REQUIRE_GPU:-1}"

echo "== 1/3 native tests (CPU backend and wgpu on Vulkan)"
cargo test --all-targets

echo "== 2/3 browser tests (wasm in headless Chromium, WebGPU)"
# The runner gives the whole browser run 20 s by default; the suite trains small nets on a
# software GPU, so allow it more.
WASM_BINDGEN_TEST_TIMEOUT=600 CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome --test web -- --nocapture

echo "== 3/3 demo page tests (playwright-core, headless Chromium)"
npm run build
node --test tests/browser/
