//! Convolutions on NHWC images, as TF.js: conv2d (filter [kh, kw, in, out]), depthwise conv2d
//! (filter [kh, kw, in, multiplier]) and conv2d transpose (filter [kh, kw, out, in]). Built on
//! im2col/col2im with matmul (an explicit GEMM), so their gradients follow from those ops.
use super::conv_gpu;
use super::im2col::{col2im, im2col, Geometry, Padding};
use crate::autograd::{no_grad, record};
use crate::device::Device;
use crate::tensor::common_device;
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
    let fs = filter.shape().to_vec();
    if let Device::Gpu(ctx) = common_device("conv2d", &[x, filter])? {
        if conv_gpu::prefers_direct(&ctx, fs[3]) {
            let out = no_grad(|| conv_gpu::forward(&ctx, x, filter, &g))?;
            return Ok(record("conv2d", out, &[x, filter], move |gr| {
                let (x, filter, dy) = (&gr.inputs[0], &gr.inputs[1], gr.grad);
                if crate::autograd::is_recording() {
                    // A recorded backward pass: the gradients as the recorded ops of the
                    // im2col path, which can be differentiated again.
                    let dx = if gr.needs(0) { Some(transposed(dy, filter, &g)?) } else { None };
                    let df = if gr.needs(1) { Some(filter_grad_composed(x, dy, &g, &fs)?) } else { None };
                    return Ok(vec![dx, df]);
                }
                // d x is the transposed convolution; d filter has its own kernel.
                let dx = if !gr.needs(0) {
                    None
                } else {
                    match conv_gpu::input_grad(&ctx, dy, filter, &g)? {
                        Some(dx) => Some(dx),
                        None => Some(transposed(dy, filter, &g)?),
                    }
                };
                let df = if gr.needs(1) { Some(conv_gpu::filter_grad(&ctx, x, dy, &g, &fs)?) } else { None };
                Ok(vec![dx, df])
            }));
        }
    }
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
    transposed(x, filter, &g)
}

/// The transposed convolution of `y` ([n, oh, ow, co]) by `filter` over geometry `g`: each output
/// pixel's channels spread back through the filter onto the window it read (col2im of y W^T).
/// d filter of conv2d as recorded ops: the image's patches (transposed) times dy.
fn filter_grad_composed(x: &Tensor, dy: &Tensor, g: &Geometry, fs: &[usize]) -> Result<Tensor> {
    let cols = im2col(x, g, 0.0)?;
    let dy = dy.reshape_to(&[g.n * g.oh * g.ow, fs[3]])?;
    ops::matmul(&cols, &dy, true, false)?.reshape_to(fs)
}

fn transposed(y: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    let fs = filter.shape();
    let w = filter.reshape_to(&[fs[0] * fs[1] * fs[2], fs[3]])?;
    let cols = ops::matmul(&y.reshape_to(&[g.n * g.oh * g.ow, fs[3]])?, &w, false, true)?;
    col2im(&cols, g)
}
