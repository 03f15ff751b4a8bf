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

    /// Bytes this device holds for tensors now, and the most at once since `reset_peak_bytes`
    /// (CPU: tensor storage; GPU: pooled buffers handed out, scratch and uniforms included).
    pub fn tensor_bytes(&self) -> (u64, u64) {
        match self {
            Device::Cpu => {
                let (live, peak) = crate::tensor::host_bytes();
                (live as u64, peak as u64)
            }
            Device::Gpu(ctx) => (ctx.pool_stats().live_bytes, ctx.pool_stats().peak_live_bytes),
        }
    }

    /// Starts a new peak at the bytes held now.
    pub fn reset_peak_bytes(&self) {
        match self {
            Device::Cpu => crate::tensor::reset_host_peak(),
            Device::Gpu(ctx) => ctx.reset_pool_peak(),
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
