//! Max and average pooling on NHWC images (TF.js maxPool / avgPool), over im2col patches.
use super::im2col::{im2col, Geometry, Padding};
use crate::autograd::no_grad;
use crate::{bail, ops, DType, Result, Tensor};

fn patches(op: &str, x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding, pad_value: f32) -> Result<(Tensor, Geometry)> {
    if x.dtype() != DType::F32 {
        bail!(op, "input must be float32, got {}", x.dtype());
    }
    let g = Geometry::new(op, x.shape(), size, strides, (1, 1), padding)?;
    let cols = im2col(x, &g, pad_value)?.reshape_to(&[g.n * g.oh * g.ow, g.kh * g.kw, g.c])?;
    Ok((cols, g))
}

/// Max over each window; padding never wins (it reads -inf).
pub fn max_pool(x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    let (cols, g) = patches("max_pool", x, size, strides, padding, f32::NEG_INFINITY)?;
    ops::max(&cols, Some(&[1]), false)?.reshape_to(&[g.n, g.oh, g.ow, g.c])
}

/// Mean over each window's pixels inside the image (padding is not counted, as in TF.js).
pub fn avg_pool(x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    let (cols, g) = patches("avg_pool", x, size, strides, padding, 0.0)?;
    let sums = ops::sum(&cols, Some(&[1]), false)?.reshape_to(&[g.n, g.oh, g.ow, g.c])?;
    // Pixels per window, from the same geometry on a one-channel image of ones.
    let counts = no_grad(|| -> Result<Tensor> {
        let ones = ops::ones(x.device(), &[1, g.h, g.w, 1], DType::F32)?;
        let one_geo = Geometry { n: 1, c: 1, ..g };
        let c = im2col(&ones, &one_geo, 0.0)?;
        ops::sum(&c, Some(&[1]), false)?.reshape_to(&[1, g.oh, g.ow, 1])
    })?;
    ops::div(&sums, &counts)
}
