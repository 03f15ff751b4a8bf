//! WGSL kernels. A kernel's source is a shader file from shaders/ written against a prelude that
//! `Source` generates: the `Params` uniform (declared once, by `params!`), the buffer bindings,
//! and whatever the kernel is specialised by (element types, a fused input's `load`, helper
//! functions). Kernels compile once per (kernel, specialisation); shapes never enter the key:
//! they travel in uniforms, so a model with many layer sizes still compiles each kernel once.
use std::collections::HashMap;
use std::rc::Rc;

pub mod params;

/// A kernel's WGSL, assembled as the prelude then the shader file. Binding 0 is always the
/// uniform `p: Params`; buffers take bindings 1, 2, ... in the order they are declared here,
/// which is the order `GpuContext::dispatch` binds them.
pub struct Source {
    fields: String,
    decls: String,
    next_binding: u32,
}

impl Source {
    /// `fields`: the `Params` members (from `params!`'s `wgsl_fields()`).
    pub fn new(fields: &str) -> Source {
        Source { fields: fields.to_string(), decls: String::new(), next_binding: 1 }
    }

    /// The next buffer binding: `var<storage, read|read_write> name: array<elem>`.
    pub fn buffer(mut self, name: &str, elem: &str, writable: bool) -> Source {
        let access = if writable { "read_write" } else { "read" };
        self.decls += &format!("@group(0) @binding({}) var<storage, {access}> {name}: array<{elem}>;\n", self.next_binding);
        self.next_binding += 1;
        self
    }

    /// A fused elementwise input: its leaves take the next bindings, its uniforms follow the
    /// kernel's own as `p.f_<name>`, and it is read with `load_<name>(i)`.
    pub fn fused(mut self, prog: &crate::fusion::Program, name: &str) -> Source {
        self.fields += &format!("    f_{name}: Fused_{name},\n");
        self.decls += &crate::fusion::prologue(prog, self.next_binding, name);
        self.next_binding += prog.buffers.len() as u32;
        self
    }

    /// Input `name` either way: a buffer of `elem` read by `load_<name>(i)`, or a fused expression.
    pub fn input(self, name: &str, elem: &str, fused: Option<&crate::fusion::Program>) -> Source {
        match fused {
            Some(prog) => self.fused(prog, name),
            None => self.buffer(name, elem, false).define(&format!("fn load_{name}(i: u32) -> {elem} {{ return {name}[i]; }}")),
        }
    }

    /// Any other prelude text: type aliases, constants, specialised functions.
    pub fn define(mut self, wgsl: &str) -> Source {
        self.decls += wgsl;
        self.decls.push('\n');
        self
    }

    /// The whole source: prelude, then `shader`.
    pub fn body(self, shader: &str) -> String {
        format!("struct Params {{\n{}}};\n@group(0) @binding(0) var<uniform> p: Params;\n{}\n{shader}", self.fields, self.decls)
    }
}

/// Helpers every kernel may call (random numbers, IEEE-safe pow, infinities).
pub const COMMON: &str = include_str!("../../shaders/common.wgsl");

/// A compiled kernel, or (while kernels are being collected for ahead-of-time compilation) a
/// placeholder without a pipeline whose dispatches are skipped.
pub struct Kernel {
    /// The cache key: names the kernel in profiles.
    pub name: String,
    pub compiled: Option<(wgpu::ComputePipeline, wgpu::BindGroupLayout)>,
}

#[derive(Default)]
pub struct KernelCache {
    kernels: HashMap<String, Rc<Kernel>>,
    /// Some while a warm-up traces which kernels a computation needs: misses are noted here
    /// (key, full WGSL) instead of compiled on the spot.
    collecting: Option<Vec<(String, String)>>,
}

/// How a kernel binds one buffer (all kernels use group 0, compute stage only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    Uniform,
    ReadOnlyStorage,
    Storage,
}

impl BindingKind {
    /// The WebGPU name of the buffer binding type.
    pub fn webgpu_name(self) -> &'static str {
        match self {
            BindingKind::Uniform => "uniform",
            BindingKind::ReadOnlyStorage => "read-only-storage",
            BindingKind::Storage => "storage",
        }
    }
}

/// The bindings a kernel declares (`@binding(N) var<uniform>` / `var<storage, read>` /
/// `var<storage, read_write>`), in binding order. Pipelines get an explicit layout made from this
/// rather than `layout: "auto"`: WebGPU makes an automatic layout unique to its pipeline, which
/// would keep the browser from recognising a pipeline it already compiled ahead of time.
pub fn bindings(code: &str) -> Vec<(u32, BindingKind)> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("@binding(") {
        let rest = &code[at + "@binding(".len()..];
        let Some(close) = rest.find(')') else { continue };
        let Ok(index) = rest[..close].trim().parse::<u32>() else { continue };
        let Some(var) = rest.find("var<") else { continue };
        let decl = &rest[var + 4..];
        let Some(end) = decl.find('>') else { continue };
        let kind = match decl[..end].replace(' ', "").as_str() {
            "uniform" => BindingKind::Uniform,
            "storage" | "storage,read" => BindingKind::ReadOnlyStorage,
            "storage,read_write" => BindingKind::Storage,
            _ => continue,
        };
        out.push((index, kind));
    }
    out.sort_by_key(|b| b.0);
    out
}

impl KernelCache {
    pub fn len(&self) -> usize {
        self.kernels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kernels.is_empty()
    }

    /// From now on, kernels not yet compiled are only noted (see `take_collected`).
    pub fn start_collecting(&mut self) {
        self.collecting = Some(Vec::new());
    }

    pub fn is_collecting(&self) -> bool {
        self.collecting.is_some()
    }

    /// Ends collection: the (key, WGSL) of every kernel that was needed but not compiled.
    pub fn take_collected(&mut self) -> Vec<(String, String)> {
        self.collecting.take().unwrap_or_default()
    }

    /// Returns the compiled kernel for `key`, building its source with `source` on first use.
    pub fn get_or_build(&mut self, device: &wgpu::Device, key: &str, source: impl FnOnce() -> String) -> Rc<Kernel> {
        if let Some(k) = self.kernels.get(key) {
            return k.clone();
        }
        let code = format!("{}\n{}", COMMON, source());
        if let Some(pending) = &mut self.collecting {
            if !pending.iter().any(|(k, _)| k == key) {
                pending.push((key.to_string(), code));
            }
            return Rc::new(Kernel { name: key.to_string(), compiled: None });
        }
        self.compile(device, key, code)
    }

    /// Compiles `code` as kernel `key` now (a no-op when it is already compiled).
    pub fn compile(&mut self, device: &wgpu::Device, key: &str, code: String) -> Rc<Kernel> {
        if let Some(k) = self.kernels.get(key) {
            return k.clone();
        }
        let declared = bindings(&code);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(key),
            source: wgpu::ShaderSource::Wgsl(code.into()),
        });
        let entries: Vec<wgpu::BindGroupLayoutEntry> = declared
            .into_iter()
            .map(|(binding, kind)| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match kind {
                        BindingKind::Uniform => wgpu::BufferBindingType::Uniform,
                        BindingKind::ReadOnlyStorage => wgpu::BufferBindingType::Storage { read_only: true },
                        BindingKind::Storage => wgpu::BufferBindingType::Storage { read_only: false },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: None, entries: &entries });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: None,
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(key),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let kernel = Rc::new(Kernel { name: key.to_string(), compiled: Some((pipeline, layout)) });
        self.kernels.insert(key.to_string(), kernel.clone());
        kernel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_read_from_the_declarations() {
        let code = "@group(0) @binding(0) var<uniform> p: Params;\n\
                    @group(0) @binding(2) var<storage, read_write> out: array<f32>;\n\
                    @group(0) @binding(1) var<storage, read> a: array<f32>;\n";
        assert_eq!(
            bindings(code),
            vec![(0, BindingKind::Uniform), (1, BindingKind::ReadOnlyStorage), (2, BindingKind::Storage)]
        );
    }
}
