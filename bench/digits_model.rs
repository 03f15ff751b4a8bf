//! The digits demo's model (www/digits.js) for the native examples: conv16-pool-conv32-pool-
//! dense10-softmax on 8x8x1 images, Keras categorical cross-entropy of the probabilities.
use webtensor::ops::{self, Padding};
use webtensor::{DType, Device, Result, Tensor};

/// The parameters, seeded: two conv filters and biases, the dense weights and bias.
pub fn params(dev: &Device) -> Result<Vec<Tensor>> {
    let p = vec![
        ops::random_normal(dev, &[3, 3, 1, 16], 0.0, 0.3, Some(2))?,
        ops::zeros(dev, &[16], DType::F32)?,
        ops::random_normal(dev, &[3, 3, 16, 32], 0.0, 0.1, Some(3))?,
        ops::zeros(dev, &[32], DType::F32)?,
        ops::random_normal(dev, &[2 * 2 * 32, 10], 0.0, 0.1, Some(4))?,
        ops::zeros(dev, &[10], DType::F32)?,
    ];
    for t in &p {
        t.set_requires_grad(true)?;
    }
    Ok(p)
}

/// The loss of images `x` ([batch, 8, 8, 1]) against one-hot labels `y`.
pub fn loss(x: &Tensor, y: &Tensor, p: &[Tensor]) -> Result<Tensor> {
    let batch = x.shape()[0];
    let c1 = ops::relu(&ops::add(&ops::conv2d(x, &p[0], (1, 1), Padding::Same, (1, 1))?, &p[1])?)?;
    let p1 = ops::max_pool(&c1, (2, 2), (2, 2), Padding::Valid)?;
    let c2 = ops::relu(&ops::add(&ops::conv2d(&p1, &p[2], (1, 1), Padding::Same, (1, 1))?, &p[3])?)?;
    let h = ops::max_pool(&c2, (2, 2), (2, 2), Padding::Valid)?.reshape_to(&[batch, 2 * 2 * 32])?;
    let probs = ops::softmax(&ops::add(&ops::matmul(&h, &p[4], false, false)?, &p[5])?, -1)?;
    ops::categorical_cross_entropy(y, &probs)
}
