//! webtensor: tensors on WebGPU (through wgpu) with a CPU fallback, for the browser and native.
// The threaded wasm build's workers sleep on memory.atomic.wait32 (src/threads.rs), whose
// intrinsic is still unstable; that build already needs RUSTC_BOOTSTRAP (scripts/build_wasm.sh).
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]
pub mod autograd;
pub mod device;
pub mod dtype;
pub mod encoder;
pub mod error;
pub mod fusion;
pub mod kernel;
pub mod onnx;
pub mod ops;
pub mod optim;
pub mod pool;
pub mod profile;
pub mod shape;
pub mod tensor;
pub mod threads;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use device::Device;
pub use dtype::DType;
pub use error::{Error, Result};
pub use tensor::Tensor;

/// Writes a diagnostic line to the browser console, or stderr natively.
pub fn log(message: &str) {
    #[cfg(target_arch = "wasm32")]
    web_sys::console::warn_1(&message.into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}
