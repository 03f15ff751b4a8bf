//! Convolutions on NHWC images, as TF.js: conv2d (filter [kh, kw, in, out]), depthwise conv2d
//! (filter [kh, kw, in, multiplier]) and conv2d transpose (filter [kh, kw, out, in]). Built on
//! im2col/col2im with matmul (an explicit GEMM), so their gradients follow from those ops.
use super::im2col::{col2im, im2col, Geometry, Padding};
use crate::{bail, ops, DType, Result, Tensor};

fn check_f32(op: &str, x: &Tensor, f: &Tensor) -> Result<()> {
    if x.dtype() != DType::F32 || f.dtype() != DType::F32 {
        bail!(op, "input and filter must be float32, got {} and {}", x.dtype(), f.dtype());
    }
    if f.rank() != 4 {
        bail!(op, "filter must have rank 4, got shape {:?}", f.shape());
    }
    Ok(())
}

/// Checks a forward convolution's operands and returns where its window reads the input.
fn forward_geometry(op: &str, x: &Tensor, filter: &Tensor, strides: (usize, usize), padding: Padding, dilations: (usize, usize)) -> Result<Geometry> {
    check_f32(op, x, filter)?;
    let fs = filter.shape();
    let g = Geometry::new(op, x.shape(), (fs[0], fs[1]), strides, dilations, padding)?;
    if fs[2] != g.c {
        bail!(op, "filter {:?} expects {} input channels but the input {:?} has {}", fs, fs[2], x.shape(), g.c);
    }
    Ok(g)
}

pub fn conv2d(x: &Tensor, filter: &Tensor, strides: (usize, usize), padding: Padding, dilations: (usize, usize)) -> Result<Tensor> {
    let g = forward_geometry("conv2d", x, filter, strides, padding, dilations)?;
    let fs = filter.shape();
    let cols = im2col(x, &g, 0.0)?;
    let w = filter.reshape_to(&[fs[0] * fs[1] * fs[2], fs[3]])?;
    ops::matmul(&cols, &w, false, false)?.reshape_to(&[g.n, g.oh, g.ow, fs[3]])
}

pub fn depthwise_conv2d(x: &Tensor, filter: &Tensor, strides: (usize, usize), padding: Padding, dilations: (usize, usize)) -> Result<Tensor> {
    let g = forward_geometry("depthwise_conv2d", x, filter, strides, padding, dilations)?;
    let fs = filter.shape();
    let (k, m) = (fs[0] * fs[1], fs[3]);
    // out[p, c, q] = sum_k cols[p, k, c] * w[k, c, q]
    let cols = im2col(x, &g, 0.0)?.reshape_to(&[g.n * g.oh * g.ow, k, g.c, 1])?;
    let w = filter.reshape_to(&[k, g.c, m])?;
    let out = ops::sum(&ops::mul(&cols, &w)?, Some(&[1]), false)?;
    out.reshape_to(&[g.n, g.oh, g.ow, g.c * m])
}

/// The transpose (input gradient) of conv2d: `output_shape` is the [n, h, w, c] of the image a
/// conv2d with this filter would have read.
pub fn conv2d_transpose(x: &Tensor, filter: &Tensor, output_shape: &[usize], strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    const OP: &str = "conv2d_transpose";
    check_f32(OP, x, filter)?;
    let fs = filter.shape();
    let g = Geometry::new(OP, output_shape, (fs[0], fs[1]), strides, (1, 1), padding)?;
    if fs[2] != g.c || x.rank() != 4 || x.shape() != [g.n, g.oh, g.ow, fs[3]] {
        bail!(
            OP,
            "input {:?} and filter {:?} do not fit output shape {:?} (expected input [{}, {}, {}, {}])",
            x.shape(), fs, output_shape, g.n, g.oh, g.ow, fs[3]
        );
    }
    let w = filter.reshape_to(&[fs[0] * fs[1] * fs[2], fs[3]])?;
    let cols = ops::matmul(&x.reshape_to(&[g.n * g.oh * g.ow, fs[3]])?, &w, false, true)?;
    col2im(&cols, &g)
}
