//! `where(cond, a, b)`: picks a where cond is true, else b, broadcasting all three.
use crate::autograd::{record, unbroadcast_needed};
use crate::fusion::{gradient_exprs, select, Space, E};
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
        let (needs_a, needs_b) = (g.needs(0), g.needs(1));
        let d = gradient_exprs(OP, g.grad.shape(), &[&cond, g.grad], |e| {
            let (c, dy) = (e[0].cast(DType::Bool), &e[1]);
            [(needs_a, select(&c, dy, 0.0)), (needs_b, select(&c, 0.0, dy))].into_iter().filter(|(needed, _)| *needed).map(|(_, d)| d).collect()
        })?;
        unbroadcast_needed(g, d)
    }))
}
