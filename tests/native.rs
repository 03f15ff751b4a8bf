//! Layer 1: the op suite natively, on the CPU backend and on the GPU through wgpu (Vulkan; on
//! GPU-less machines Mesa's lavapipe). Without an adapter the GPU tests say SKIPPED, unless
//! WEBTENSOR_REQUIRE_GPU=1 (set by .ci/run) turns that into a failure.
#![cfg(not(target_arch = "wasm32"))]

mod suite;

use std::sync::Once;
use webtensor::Device;

fn gpu_device() -> Option<Device> {
    static REPORT: Once = Once::new();
    match pollster::block_on(Device::gpu()) {
        Ok(dev) => {
            REPORT.call_once(|| eprintln!("GPU tests run on: {}", dev.description()));
            Some(dev)
        }
        Err(err) => {
            if std::env::var("WEBTENSOR_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("WEBTENSOR_REQUIRE_GPU=1 but no GPU adapter: {err}");
            }
            REPORT.call_once(|| eprintln!("SKIPPED: GPU tests (no adapter: {err})"));
            None
        }
    }
}

macro_rules! native_cases {
    ($($name:ident),*) => {
        mod cpu {
            $( #[test] fn $name() {
                if let Err(msg) = pollster::block_on(super::suite::$name(webtensor::Device::Cpu)) { panic!("{msg}"); }
            } )*
        }
        mod gpu {
            $( #[test] fn $name() {
                let Some(dev) = super::gpu_device() else { return };
                if let Err(msg) = pollster::block_on(super::suite::$name(dev)) { panic!("{msg}"); }
            } )*
        }
    };
}

for_each_case!(native_cases);

#[test]
fn gpu_device_loss_is_reported() {
    let Some(dev) = gpu_device() else { return };
    if let Err(msg) = pollster::block_on(suite::device_loss_is_reported(dev)) {
        panic!("{msg}");
    }
}

#[test]
fn gpu_warmup_compiles_ahead() {
    let Some(dev) = gpu_device() else { return };
    if let Err(msg) = pollster::block_on(suite::warmup_compiles_ahead(dev)) {
        panic!("{msg}");
    }
}

#[test]
fn gpu_errors_fail_the_next_readback() {
    let Some(dev) = gpu_device() else { return };
    if let Err(msg) = pollster::block_on(suite::gpu_errors_fail_the_next_readback(dev)) {
        panic!("{msg}");
    }
}
