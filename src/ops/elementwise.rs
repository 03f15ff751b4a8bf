//! The engine behind every elementwise op (unary, binary, comparison, where, cast, fill, random):
//! broadcasting, the CPU loop and the GPU dispatch of shaders/elementwise.wgsl. An op supplies
//! a CPU closure over 32-bit words and a WGSL expression over `a`, `b`, `c`.
use std::cell::RefCell;
use std::rc::Rc;

use bytemuck::{Pod, Zeroable};

use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::kernel::fill_template;
use crate::shape::{broadcast_strides, check_rank, checked_numel, MAX_RANK};
use crate::tensor::{alloc_words, common_device, Storage, Tensor};
use crate::{bail, DType, Result};

const TEMPLATE: &str = include_str!("../../shaders/elementwise.wgsl");
pub const MAX_INPUTS: usize = 3;

/// What the GPU path needs besides the inputs.
pub struct Gpu<'a> {
    /// Kernel family, e.g. "add:f32". Input layouts are appended to form the cache key.
    pub key: &'a str,
    /// WGSL expression of the output element.
    pub expr: &'a str,
    pub alpha: f32,
    pub beta: f32,
    pub seed: u32,
    pub bits: u32,
}

impl<'a> Gpu<'a> {
    pub fn new(key: &'a str, expr: &'a str) -> Self {
        Gpu { key, expr, alpha: 0.0, beta: 0.0, seed: 0, bits: 0 }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    rank: u32,
    alpha: f32,
    beta: f32,
    seed: u32,
    bits: u32,
    _pad: [u32; 2],
    /// Element count of each `Layout::Tiled` input.
    tiles: [u32; 4],
    out_shape: [u32; MAX_RANK],
    strides: [u32; MAX_RANK * MAX_INPUTS],
}

/// How a kernel reads one input.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// Same shape as the output: element i.
    Contiguous,
    /// One element: element 0.
    Scalar,
    /// Repeated along leading dimensions only (a bias over rows): element i % its size. Saves
    /// the strided walk's divisions, which CPU-emulated GPUs pay dearly for.
    Tiled,
    /// Broadcast: through strides.
    Strided,
}

fn layout_of(t: &Tensor, out_shape: &[usize]) -> Layout {
    let trailing = &t.shape()[t.shape().iter().take_while(|&&d| d == 1).count()..];
    if t.shape() == out_shape {
        Layout::Contiguous
    } else if t.numel() == 1 {
        Layout::Scalar
    } else if out_shape.ends_with(trailing) {
        Layout::Tiled
    } else {
        Layout::Strided
    }
}

/// Runs an elementwise op. `inputs` must broadcast to `out_shape` (callers compute it with
/// `broadcast_shapes`, which reports mismatches). `cpu(words, i)` computes output element i from
/// the input elements' words.
pub fn run(
    op: &str,
    inputs: &[&Tensor],
    out_shape: &[usize],
    out_dtype: DType,
    device: Option<&Device>,
    gpu: Gpu,
    cpu: impl Fn(&[u32; MAX_INPUTS], usize) -> u32,
) -> Result<Tensor> {
    debug_assert!(inputs.len() <= MAX_INPUTS);
    check_rank(op, out_shape)?;
    let n = checked_numel(op, out_shape)?;
    let device = match device {
        Some(d) => d.clone(),
        None => common_device(op, inputs)?,
    };
    for t in inputs {
        if t.numel() == 0 && n != 0 {
            bail!(op, "an empty input of shape {:?} cannot broadcast to {:?}", t.shape(), out_shape);
        }
    }
    let storage = match &device {
        Device::Cpu => Storage::Cpu(RefCell::new(run_cpu(op, inputs, out_shape, n, cpu)?)),
        Device::Gpu(ctx) => {
            let out = ctx.alloc(op, (n * 4) as u64)?;
            let layouts: Vec<Layout> = inputs.iter().map(|t| layout_of(t, out_shape)).collect();
            let mut key = format!("ew:{}:{}:", gpu.key, out_dtype.wgsl());
            for (t, l) in inputs.iter().zip(&layouts) {
                key.push_str(t.dtype().wgsl());
                key.push(match l {
                    Layout::Contiguous => 'c',
                    Layout::Scalar => 's',
                    Layout::Tiled => 't',
                    Layout::Strided => 'b',
                });
            }
            let kernel = ctx.kernel(&key, || source(inputs, &layouts, out_dtype, gpu.expr));
            let mut params = Params::zeroed();
            params.n = n as u32;
            params.rank = out_shape.len() as u32;
            params.alpha = gpu.alpha;
            params.beta = gpu.beta;
            params.seed = gpu.seed;
            params.bits = gpu.bits;
            for (d, &s) in out_shape.iter().enumerate() {
                params.out_shape[d] = s as u32;
            }
            for (k, t) in inputs.iter().enumerate() {
                params.tiles[k] = t.numel() as u32;
                for (d, s) in broadcast_strides(t.shape(), out_shape).into_iter().enumerate() {
                    params.strides[k * MAX_RANK + d] = s as u32;
                }
            }
            let mut buffers: Vec<&wgpu::Buffer> = inputs.iter().map(|t| t.gpu_buffer().raw()).collect();
            buffers.push(out.raw());
            ctx.dispatch(&kernel, bytemuck::bytes_of(&params), &buffers, grid_2d(n.div_ceil(256) as u64)?);
            Storage::Gpu(out)
        }
    };
    Ok(Tensor::from_storage(&device, Rc::new(storage), out_shape.to_vec(), out_dtype))
}

fn source(inputs: &[&Tensor], layouts: &[Layout], out_dtype: DType, expr: &str) -> String {
    const NAMES: [&str; MAX_INPUTS] = ["a", "b", "c"];
    let mut bindings = String::new();
    let mut loads = String::new();
    for (k, (t, l)) in inputs.iter().zip(layouts).enumerate() {
        bindings += &format!("@group(0) @binding({}) var<storage, read> in{k}: array<{}>;\n", k + 1, t.dtype().wgsl());
        let index = match l {
            Layout::Contiguous => "i".to_string(),
            Layout::Scalar => "0u".to_string(),
            Layout::Tiled => format!("i % p.tiles[{k}]"),
            Layout::Strided => format!("in_offset({k}u, i)"),
        };
        loads += &format!("    let {} = in{k}[{index}];\n", NAMES[k]);
    }
    bindings += &format!(
        "@group(0) @binding({}) var<storage, read_write> out: array<{}>;\n",
        inputs.len() + 1,
        out_dtype.wgsl()
    );
    fill_template(TEMPLATE, &[("BINDINGS", &bindings), ("LOADS", &loads), ("EXPR", expr)])
}

fn run_cpu(op: &str, inputs: &[&Tensor], out_shape: &[usize], n: usize, f: impl Fn(&[u32; MAX_INPUTS], usize) -> u32) -> Result<Vec<u32>> {
    let datas: Vec<_> = inputs.iter().map(|t| t.cpu_words()).collect();
    let mut out = alloc_words(op, n)?;
    let mut w = [0u32; MAX_INPUTS];
    if inputs.iter().all(|t| t.shape() == out_shape || t.numel() == 1) {
        let scalar: Vec<bool> = inputs.iter().map(|t| t.shape() != out_shape).collect();
        for (i, o) in out.iter_mut().enumerate() {
            for k in 0..datas.len() {
                w[k] = datas[k][if scalar[k] { 0 } else { i }];
            }
            *o = f(&w, i);
        }
        return Ok(out);
    }
    // General broadcast: walk the output in order with an odometer over its coordinates, keeping
    // each input's offset up to date incrementally (no division per element).
    let rank = out_shape.len();
    let in_strides: Vec<Vec<usize>> = inputs.iter().map(|t| broadcast_strides(t.shape(), out_shape)).collect();
    let mut coord = vec![0usize; rank];
    let mut offs = vec![0usize; inputs.len()];
    for (i, o) in out.iter_mut().enumerate() {
        for k in 0..datas.len() {
            w[k] = datas[k][offs[k]];
        }
        *o = f(&w, i);
        for d in (0..rank).rev() {
            coord[d] += 1;
            for k in 0..offs.len() {
                offs[k] += in_strides[k][d];
            }
            if coord[d] < out_shape[d] {
                break;
            }
            for k in 0..offs.len() {
                offs[k] -= in_strides[k][d] * out_shape[d];
            }
            coord[d] = 0;
        }
    }
    Ok(out)
}
