//! gather (TF.js `tf.gather`) and embedding lookup. An index outside the axis is an error on the
//! CPU backend and gives zeros on WebGPU (a kernel cannot raise), as in TF.js (CPU and WebGL).
//! The gradient scatters back: dx[a] = sum over j with idx[j] = a of dy[j], in O(ids x row) work
//! (an embedding table's gradient does not touch the vocabulary's other rows: no one-hot matrix).
use std::rc::Rc;

use crate::autograd::record;
use crate::device::gpu::{grid_2d, CHECK_GATHER_INDEX};
use crate::device::Device;
use crate::kernel::Source;
use crate::shape::{check_rank, checked_numel, normalize_axis};
use crate::tensor::{common_device, Storage, Tensor};
use crate::{bail, ops, DType, Result};

const SHADER: &str = include_str!("../../shaders/gather.wgsl");
const SCATTER_ADD: &str = include_str!("../../shaders/scatter_add.wgsl");

crate::params! {
    /// shaders/gather.wgsl's parameters: x viewed as [outer, axis_len, inner], `count` indices.
    pub struct GatherParams { outer: u32, axis_len: u32, inner: u32, count: u32 }
}

pub fn gather(x: &Tensor, indices: &Tensor, axis: i64) -> Result<Tensor> {
    const OP: &str = "gather";
    let device = common_device(OP, &[x, indices])?;
    if indices.dtype() == DType::F32 {
        bail!(OP, "indices must be int32, got float32 of shape {:?}", indices.shape());
    }
    let axis = normalize_axis(OP, axis, x.rank())?;
    let (outer, axis_len, inner): (usize, usize, usize) =
        (x.shape()[..axis].iter().product(), x.shape()[axis], x.shape()[axis + 1..].iter().product());
    let count = indices.numel();
    let mut out_shape = x.shape()[..axis].to_vec();
    out_shape.extend_from_slice(indices.shape());
    out_shape.extend_from_slice(&x.shape()[axis + 1..]);
    check_rank(OP, &out_shape)?;
    let n = checked_numel(OP, &out_shape)?;
    let storage = match &device {
        Device::Cpu => {
            let (xw, iw) = (x.cpu_words()?, indices.cpu_words()?);
            let mut out = crate::tensor::alloc_words(OP, n)?;
            for o in 0..outer {
                for j in 0..count {
                    let a = iw[j] as i32;
                    if a < 0 || a as usize >= axis_len {
                        bail!(OP, "index {a} is out of range for an axis of {axis_len} (x {:?}, indices {:?})", x.shape(), indices.shape());
                    }
                    let src = (o * axis_len + a as usize) * inner;
                    let dst = (o * count + j) * inner;
                    out[dst..dst + inner].copy_from_slice(&xw[src..src + inner]);
                }
            }
            Storage::cpu(out)
        }
        Device::Gpu(ctx) => {
            let out = ctx.alloc(OP, (n * 4) as u64)?;
            let kernel = ctx.kernel("gather", || {
                Source::new(&GatherParams::wgsl_fields())
                    .buffer("out", "u32", true)
                    .buffer("x", "u32", false)
                    .buffer("idx", "i32", false)
                    .buffer("checks", "atomic<u32>", true)
                    .define(&format!("const CHECK_GATHER_INDEX: u32 = {CHECK_GATHER_INDEX}u;"))
                    .body(SHADER)
            });
            let p = GatherParams { outer: outer as u32, axis_len: axis_len as u32, inner: inner as u32, count: count as u32 };
            let buffers = [out.raw(), x.gpu_buffer()?.raw(), indices.gpu_buffer()?.raw(), ctx.checks()];
            ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &buffers, grid_2d(n.div_ceil(256) as u64)?);
            Storage::gpu(out)
        }
    };
    let out = Tensor::from_storage(&device, Rc::new(storage), out_shape, x.dtype());
    let idx = indices.clone();
    let x_shape = x.shape().to_vec();
    Ok(record(OP, out, &[x], move |g| {
        crate::autograd::first_order_only(OP)?;
        let p = GatherParams { outer: outer as u32, axis_len: axis_len as u32, inner: inner as u32, count: count as u32 };
        Ok(vec![Some(scatter_add(g.grad, &idx, &p, &x_shape)?)])
    }))
}

/// dx of shape `x_shape` ([outer, axis_len, inner]) with dx[o, idx[j], k] += dy[o, j, k]; indices
/// outside the axis contribute nothing (as their gather read zeros). On the GPU each element of dy
/// adds itself with a compare-and-swap loop: where ids repeat, the order of their sum may vary
/// between runs (by rounding only), as with every GPU framework's scatter-add.
fn scatter_add(dy: &Tensor, idx: &Tensor, p: &GatherParams, x_shape: &[usize]) -> Result<Tensor> {
    let (outer, axis_len, inner, count) = (p.outer as usize, p.axis_len as usize, p.inner as usize, p.count as usize);
    match dy.device() {
        Device::Cpu => {
            let (dw, iw) = (dy.cpu_words()?, idx.cpu_words()?);
            let ds: &[f32] = bytemuck::cast_slice(&dw);
            let mut dx = vec![0f32; outer * axis_len * inner];
            for o in 0..outer {
                for j in 0..count {
                    let a = iw[j] as i32;
                    if a < 0 || a as usize >= axis_len {
                        continue;
                    }
                    let (dst, src) = ((o * axis_len + a as usize) * inner, (o * count + j) * inner);
                    dx[dst..dst + inner].iter_mut().zip(&ds[src..src + inner]).for_each(|(x, &d)| *x += d);
                }
            }
            Tensor::from_f32(dy.device(), &dx, x_shape)
        }
        Device::Gpu(ctx) => {
            let dx = ops::zeros(dy.device(), x_shape, DType::F32)?;
            let kernel = ctx.kernel("scatter_add", || {
                Source::new(&GatherParams::wgsl_fields()).buffer("dx", "atomic<u32>", true).buffer("dy", "f32", false).buffer("idx", "i32", false).body(SCATTER_ADD)
            });
            let buffers = [dx.gpu_buffer()?.raw(), dy.gpu_buffer()?.raw(), idx.gpu_buffer()?.raw()];
            ctx.dispatch(&kernel, bytemuck::bytes_of(p), &buffers, grid_2d((outer * count * inner).div_ceil(256) as u64)?);
            Ok(dx)
        }
    }
}

/// A float32 vector of `len` zeros plus, for each j, values[j] at indices[j] (indices outside
/// 0..len add nothing): scatter over flattened positions, as ONNX ScatterND and ScatterElements
/// lower to. The gradient of `values` is the gather of the output's gradient at the indices.
pub fn scatter_add_flat(values: &Tensor, indices: &Tensor, len: usize) -> Result<Tensor> {
    const OP: &str = "scatter_add";
    common_device(OP, &[values, indices])?;
    if values.dtype() != DType::F32 || indices.dtype() == DType::F32 || values.numel() != indices.numel() {
        bail!(OP, "values must be float32 and indices int32 of as many elements; got {} {:?} and {} {:?}", values.dtype(), values.shape(), indices.dtype(), indices.shape());
    }
    if len > u32::MAX as usize || values.numel() > u32::MAX as usize {
        bail!(OP, "{len} positions are too many");
    }
    let flat_values = ops::reshape(values, &[-1])?;
    let flat_idx = ops::reshape(indices, &[-1])?;
    let p = GatherParams { outer: 1, axis_len: len as u32, inner: 1, count: values.numel() as u32 };
    let out = crate::autograd::no_grad(|| scatter_add(&flat_values, &flat_idx, &p, &[len]))?;
    let shape = values.shape().to_vec();
    Ok(record(OP, out, &[values], move |g| {
        let picked = gather(g.grad, &flat_idx, 0)?;
        Ok(vec![Some(ops::reshape(&picked, &shape.iter().map(|&d| d as i64).collect::<Vec<_>>())?)])
    }))
}

/// Rows of `table` ([vocab, dim]) for each id: TF.js/Keras `embedding`.
pub fn embedding(table: &Tensor, ids: &Tensor) -> Result<Tensor> {
    if table.rank() != 2 {
        bail!("embedding", "table must be [vocab, dim], got shape {:?}", table.shape());
    }
    gather(table, ids, 0)
}
