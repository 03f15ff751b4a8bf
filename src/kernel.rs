//! WGSL kernels: sources are pulled from shaders/ at compile time, specialised by filling
//! `{{NAME}}` placeholders (element types, the expression of an elementwise op, ...), and compiled
//! once per (kernel, specialisation). Shapes never enter the key: they travel in uniforms, so a
//! model with many layer sizes still compiles each kernel once.
use std::collections::HashMap;
use std::rc::Rc;

/// Helpers every kernel may call (random numbers, IEEE-safe pow, infinities).
pub const COMMON: &str = include_str!("../shaders/common.wgsl");

pub struct Kernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

#[derive(Default)]
pub struct KernelCache {
    kernels: HashMap<String, Rc<Kernel>>,
}

/// Replaces each `{{KEY}}` in `template` by its value.
pub fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    debug_assert!(!out.contains("{{"), "unfilled placeholder in kernel:\n{out}");
    out
}

impl KernelCache {
    pub fn len(&self) -> usize {
        self.kernels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kernels.is_empty()
    }

    /// Returns the compiled kernel for `key`, building its source with `source` on first use.
    pub fn get_or_build(&mut self, device: &wgpu::Device, key: &str, source: impl FnOnce() -> String) -> Rc<Kernel> {
        if let Some(k) = self.kernels.get(key) {
            return k.clone();
        }
        let code = format!("{}\n{}", COMMON, source());
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(key),
            source: wgpu::ShaderSource::Wgsl(code.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(key),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let kernel = Rc::new(Kernel { pipeline, layout });
        self.kernels.insert(key.to_string(), kernel.clone());
        kernel
    }
}
