//! `where(cond, a, b)`: picks a where cond is true, else b, broadcasting all three.
use crate::autograd::{record, sum_to_shape};
use crate::fusion::{select, Space, E};
use crate::shape::broadcast_shapes;
use crate::{DType, Result, Tensor};

pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    const OP: &str = "where";
    let ab = broadcast_shapes(OP, a.shape(), b.shape())?;
    let shape = broadcast_shapes(OP, cond.shape(), &ab)?;
    let space = Space::new(OP, &shape, &[cond, a, b])?;
    let out = space.tensor(E::select(&space.read(cond)?, &space.read(a)?, &space.read(b)?))?;
    let cond = cond.clone();
    Ok(record(OP, out, &[a, b], move |g| {
        let s = Space::new(OP, g.grad.shape(), &[g.grad])?;
        let (c, dy) = (s.read(&cond)?.cast(DType::Bool), s.read(g.grad)?);
        let mut grads = Vec::with_capacity(2);
        for (i, d) in [select(&c, &dy, 0.0), select(&c, 0.0, &dy)].into_iter().enumerate() {
            grads.push(if g.needs(i) { Some(sum_to_shape(&s.tensor(d)?, g.inputs[i].shape())?) } else { None });
        }
        Ok(grads)
    }))
}
