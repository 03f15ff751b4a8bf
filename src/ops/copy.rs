//! The strided-copy engine (shaders/copy.wgsl and its CPU twin): copies a box of `shape` from a
//! source laid out by (offset, strides) into a destination laid out by (offset, strides).
//! Dtype-agnostic: it moves 32-bit words.
use bytemuck::Zeroable;

use crate::device::gpu::{grid_2d, GpuBuffer};
use crate::device::Device;
use crate::kernel::Source;
use crate::shape::{numel, MAX_RANK};
use crate::tensor::{Storage, Tensor};
use crate::Result;

const SHADER: &str = include_str!("../../shaders/copy.wgsl");

crate::params! {
    /// shaders/copy.wgsl's parameters: the box and where it lies in each buffer.
    pub struct CopyParams {
        n: u32, rank: u32, src_off: u32, dst_off: u32,
        shape: [u32; MAX_RANK], src_strides: [u32; MAX_RANK], dst_strides: [u32; MAX_RANK],
    }
}

/// Where a box lies in a buffer: offset and per-dimension strides, in elements.
pub struct View<'a> {
    pub offset: usize,
    pub strides: &'a [usize],
}

/// Output storage being assembled by one or more copies.
pub enum Dst<'a> {
    Cpu(&'a mut [u32]),
    Gpu(&'a GpuBuffer),
}

/// Copies the box `shape` from `src` (viewed through `sv`) into `dst` (viewed through `dv`).
pub fn copy_box(src: &Tensor, sv: View, dst: &mut Dst, dv: View, shape: &[usize]) -> Result<()> {
    let n = numel(shape);
    if n == 0 {
        return Ok(());
    }
    match (src.device(), dst) {
        (Device::Cpu, Dst::Cpu(out)) => {
            let data = src.cpu_words()?;
            let Some((&inner, outer)) = shape.split_last() else {
                out[dv.offset] = data[sv.offset];
                return Ok(());
            };
            let rank = shape.len();
            let (si, di) = (sv.strides[rank - 1], dv.strides[rank - 1]);
            // Row by row along the last axis (a block copy where both sides are contiguous there,
            // as in a head transpose [b, s, h, d] -> [b, h, s, d]); an odometer over the rest.
            let mut coord = vec![0usize; rank - 1];
            let (mut s, mut t) = (sv.offset, dv.offset);
            for _ in 0..n / inner {
                if si == 1 && di == 1 {
                    out[t..t + inner].copy_from_slice(&data[s..s + inner]);
                } else {
                    for i in 0..inner {
                        out[t + i * di] = data[s + i * si];
                    }
                }
                for d in (0..outer.len()).rev() {
                    coord[d] += 1;
                    s += sv.strides[d];
                    t += dv.strides[d];
                    if coord[d] < shape[d] {
                        break;
                    }
                    s -= sv.strides[d] * shape[d];
                    t -= dv.strides[d] * shape[d];
                    coord[d] = 0;
                }
            }
        }
        (Device::Gpu(ctx), Dst::Gpu(out)) => {
            let kernel = ctx.kernel("copy", || Source::new(&CopyParams::wgsl_fields()).buffer("dst", "u32", true).buffer("src", "u32", false).body(SHADER));
            let mut p = CopyParams::zeroed();
            p.n = n as u32;
            p.rank = shape.len() as u32;
            p.src_off = sv.offset as u32;
            p.dst_off = dv.offset as u32;
            for d in 0..shape.len() {
                p.shape[d] = shape[d] as u32;
                p.src_strides[d] = sv.strides[d] as u32;
                p.dst_strides[d] = dv.strides[d] as u32;
            }
            let grid = grid_2d(n.div_ceil(256) as u64)?;
            ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &[out.raw(), src.gpu_buffer()?.raw()], grid);
        }
        _ => unreachable!("copy_box between devices: callers check common_device"),
    }
    Ok(())
}

/// Builds a new tensor of `shape` by running `fill` over its (uninitialised) storage.
pub fn assemble(
    op: &str,
    device: &Device,
    shape: Vec<usize>,
    dtype: crate::DType,
    fill: impl FnOnce(&mut Dst) -> Result<()>,
) -> Result<Tensor> {
    let n = crate::shape::checked_numel(op, &shape)?;
    let storage = match device {
        Device::Cpu => {
            let mut words = crate::tensor::alloc_words(op, n)?;
            fill(&mut Dst::Cpu(&mut words))?;
            Storage::cpu(words)
        }
        Device::Gpu(ctx) => {
            let buf = ctx.alloc(op, (n * 4) as u64)?;
            fill(&mut Dst::Gpu(&buf))?;
            Storage::gpu(buf)
        }
    };
    Ok(Tensor::from_storage(device, std::rc::Rc::new(storage), shape, dtype))
}
