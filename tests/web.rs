//! Layer 2: the op suite inside real browsers (`wasm-pack test --headless --chrome` and
//! `--firefox`), on the browser's WebGPU and on the CPU backend compiled to wasm. A browser
//! without a WebGPU adapter fails these tests: they must never pass by silently skipping the GPU.
#![cfg(target_arch = "wasm32")]

mod suite;

use std::cell::RefCell;
use wasm_bindgen_test::*;
use webtensor::Device;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// One WebGPU device for the whole run (a fresh one per test would only measure device start-up).
async fn gpu() -> Device {
    if let Some(dev) = GPU.with(|g| g.borrow().clone()) {
        return dev;
    }
    let dev = Device::gpu().await.unwrap_or_else(|e| panic!("no WebGPU adapter in this browser: {e}"));
    console_log!("browser suite runs on WebGPU adapter: {}", dev.description());
    GPU.with(|g| *g.borrow_mut() = Some(dev.clone()));
    dev
}

#[wasm_bindgen_test]
async fn webgpu_adapter_is_found_and_named() {
    let dev = gpu().await;
    let Device::Gpu(ctx) = &dev else { panic!("expected a GPU device") };
    console_log!("adapter: {:?} (backend {:?}, vendor {:#x})", ctx.info.name, ctx.info.backend, ctx.info.vendor);
    assert_eq!(ctx.info.backend, wgpu::Backend::BrowserWebGpu);
}

macro_rules! web_cases {
    ($($name:ident),*) => {
        mod webgpu {
            use super::*;
            $( #[wasm_bindgen_test] async fn $name() {
                if let Err(msg) = suite::$name(gpu().await).await { panic!("{msg}"); }
            } )*
        }
        mod cpu {
            use super::*;
            $( #[wasm_bindgen_test] async fn $name() {
                if let Err(msg) = suite::$name(Device::Cpu).await { panic!("{msg}"); }
            } )*
        }
    };
}

for_each_case!(web_cases);

/// On a device of its own: the shared one must survive for the other tests.
#[wasm_bindgen_test]
async fn webgpu_device_loss_is_reported() {
    let dev = Device::gpu().await.unwrap_or_else(|e| panic!("no WebGPU adapter in this browser: {e}"));
    if let Err(msg) = suite::device_loss_is_reported(dev).await {
        panic!("{msg}");
    }
}

/// On a device of its own, so that nothing is compiled yet.
#[wasm_bindgen_test]
async fn webgpu_warmup_compiles_ahead_with_create_compute_pipeline_async() {
    let dev = Device::gpu().await.unwrap_or_else(|e| panic!("no WebGPU adapter in this browser: {e}"));
    if let Err(msg) = suite::warmup_compiles_ahead(dev).await {
        panic!("{msg}");
    }
}
