//! Where tensors live: the CPU (plain Rust kernels, also the test oracle) or a GPU through wgpu.
pub mod gpu;

use std::rc::Rc;

pub use gpu::GpuContext;

#[derive(Clone)]
pub enum Device {
    Cpu,
    Gpu(Rc<GpuContext>),
}

impl Device {
    /// Opens the default GPU (WebGPU in the browser, Vulkan/Metal/DX12 natively).
    pub async fn gpu() -> crate::Result<Device> {
        Ok(Device::Gpu(GpuContext::new().await?))
    }

    /// "cpu" or "webgpu" (the TF.js backend names).
    pub fn backend_name(&self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Gpu(_) => "webgpu",
        }
    }

    /// What runs the kernels: "CPU" or the adapter's name and API.
    pub fn description(&self) -> String {
        match self {
            Device::Cpu => "CPU".to_string(),
            Device::Gpu(ctx) => ctx.adapter_name(),
        }
    }

    pub fn same(&self, other: &Device) -> bool {
        match (self, other) {
            (Device::Cpu, Device::Cpu) => true,
            (Device::Gpu(a), Device::Gpu(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}
