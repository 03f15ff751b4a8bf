//! Convolutions on NHWC images, as TF.js: conv2d (filter [kh, kw, in, out]), depthwise conv2d
//! (filter [kh, kw, in, multiplier]) and conv2d transpose (filter [kh, kw, out, in]). Built on
//! im2col/col2im with matmul (an explicit GEMM), so their gradients follow from those ops; on the
//! CPU the depthwise convolution has a direct kernel, whose gradient is that composition's.
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
    if let Device::Cpu = x.device() {
        if super::winograd::applies(&g, g.c, fs[3]) {
            // 3x3 stride 1 by Winograd's F(2x2, 3x3) (src/ops/winograd.rs). The gradient is the
            // im2col path's: the transposed convolution for x, patches times dy for the filter.
            let out = no_grad(|| super::winograd::conv_nhwc(x, filter, &g))?;
            return Ok(record("conv2d", out, &[x, filter], move |gr| {
                let (x, filter, dy) = (&gr.inputs[0], &gr.inputs[1], gr.grad);
                let dx = if gr.needs(0) { Some(transposed(dy, filter, &g)?) } else { None };
                let df = if gr.needs(1) { Some(filter_grad_composed(x, dy, &g, &fs)?) } else { None };
                Ok(vec![dx, df])
            }));
        }
    }
    // A 1x1, stride-1, unpadded window's patches are the image's pixels: no im2col copy.
    let pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.oh == g.h && g.ow == g.w;
    let cols = if pointwise { x.reshape_to(&g.cols_shape())? } else { im2col(x, &g, 0.0)? };
    let w = filter.reshape_to(&[fs[0] * fs[1] * fs[2], fs[3]])?;
    ops::matmul(&cols, &w, false, false)?.reshape_to(&[g.n, g.oh, g.ow, fs[3]])
}

pub fn depthwise_conv2d(x: &Tensor, filter: &Tensor, strides: (usize, usize), padding: Padding, dilations: (usize, usize)) -> Result<Tensor> {
    const OP: &str = "depthwise_conv2d";
    let g = forward_geometry(OP, x, filter, strides, padding, dilations)?;
    if let Device::Cpu = common_device(OP, &[x, filter])? {
        let out = no_grad(|| depthwise_cpu(x, filter, &g))?;
        // The gradient: the composition's at the same point.
        return Ok(record(OP, out, &[x, filter], move |gr| crate::autograd::vjp_of_composition(gr, |t| depthwise_composed(&t[0], &t[1], &g))));
    }
    depthwise_composed(x, filter, &g)
}

/// Depthwise convolution from im2col, a broadcast product and a sum: the WebGPU path and the
/// CPU kernel's gradient.
fn depthwise_composed(x: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    let fs = filter.shape();
    let (k, m) = (fs[0] * fs[1], fs[3]);
    // out[p, c, q] = sum_k cols[p, k, c] * w[k, c, q]
    let cols = im2col(x, g, 0.0)?.reshape_to(&[g.n * g.oh * g.ow, k, g.c, 1])?;
    let w = filter.reshape_to(&[k, g.c, m])?;
    let out = ops::sum(&ops::mul(&cols, &w)?, Some(&[1]), false)?;
    out.reshape_to(&[g.n, g.oh, g.ow, g.c * m])
}

/// The CPU depthwise kernel: each output pixel's channels accumulate, tap by tap, the input
/// pixel's channels times the filter tap's (contiguous runs in NHWC, which the compiler vectorizes).
fn depthwise_cpu(x: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    const OP: &str = "depthwise_conv2d";
    let m = filter.shape()[3];
    let (c, cm) = (g.c, g.c * m);
    let shape = vec![g.n, g.oh, g.ow, cm];
    let mut words = crate::tensor::alloc_words(OP, crate::shape::checked_numel(OP, &shape)?)?;
    let (xw, fw) = (x.cpu_words()?, filter.cpu_words()?);
    let (xf, ff): (&[f32], &[f32]) = (bytemuck::cast_slice(&xw[..]), bytemuck::cast_slice(&fw[..]));
    let out: &mut [f32] = bytemuck::cast_slice_mut(&mut words);
    for (p, acc) in out.chunks_exact_mut(cm.max(1)).enumerate() {
        let (n, oy, ox) = (p / (g.oh * g.ow), p / g.ow % g.oh, p % g.ow);
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let Some((iy, ix)) = super::im2col::source_pixel(g, oy, ox, ky, kx) else { continue };
                let pixel = &xf[((n * g.h + iy) * g.w + ix) * c..][..c];
                let tap = &ff[(ky * g.kw + kx) * cm..][..cm];
                if m == 1 {
                    acc.iter_mut().zip(pixel).zip(tap).for_each(|((o, &v), &w)| *o += v * w);
                } else {
                    for ((o, w), &v) in acc.chunks_exact_mut(m).zip(tap.chunks_exact(m)).zip(pixel) {
                        o.iter_mut().zip(w).for_each(|(o, &w)| *o += v * w);
                    }
                }
            }
        }
    }
    Ok(Tensor::from_storage(&Device::Cpu, std::rc::Rc::new(crate::tensor::Storage::cpu(words)), shape, DType::F32))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPU depthwise kernel and its gradients against the im2col composition, with channel
    /// multipliers 1 and 3, strides, dilations and padding.
    #[test]
    fn cpu_depthwise_matches_the_composition() {
        let cases = [(1, (1, 1), (1, 1), Padding::Same), (3, (2, 2), (1, 1), Padding::Explicit(1, 0, 2, 1)), (1, (1, 1), (2, 2), Padding::Valid), (2, (1, 2), (1, 1), Padding::Same)];
        for (i, (m, strides, dilations, padding)) in cases.into_iter().enumerate() {
            let xv: Vec<f32> = (0..2 * 7 * 6 * 5).map(|j| (((j * 37 + i) % 41) as f32 - 20.0) / 9.0).collect();
            let fv: Vec<f32> = (0..3 * 3 * 5 * m).map(|j| (((j * 29 + i) % 23) as f32 - 11.0) / 7.0).collect();
            let x = Tensor::from_f32(&Device::Cpu, &xv, &[2, 7, 6, 5]).unwrap();
            let f = Tensor::from_f32(&Device::Cpu, &fv, &[3, 3, 5, m]).unwrap();
            let g = forward_geometry("test", &x, &f, strides, padding, dilations).unwrap();
            let run = |direct: bool| {
                let (y, grads) = crate::autograd::value_and_grads(&[&x, &f], |t| {
                    let y = if direct { depthwise_conv2d(&t[0], &t[1], strides, padding, dilations)? } else { depthwise_composed(&t[0], &t[1], &g)? };
                    ops::sum(&ops::mul(&y, &y)?, None, false)
                })
                .unwrap();
                let out = if direct { depthwise_conv2d(&x, &f, strides, padding, dilations) } else { depthwise_composed(&x, &f, &g) }.unwrap();
                (out.cpu_floats(), y.cpu_floats(), grads.iter().map(Tensor::cpu_floats).collect::<Vec<_>>())
            };
            let (a, b) = (run(true), run(false));
            for (got, want) in a.0.iter().chain(&a.1).chain(a.2.iter().flatten()).zip(b.0.iter().chain(&b.1).chain(b.2.iter().flatten())) {
                assert!((got - want).abs() <= 1e-3 * (1.0 + want.abs()), "case {i}: {got} vs {want}");
            }
            assert_eq!(a.0.len(), b.0.len());
        }
    }
}
