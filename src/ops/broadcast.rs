//! broadcast_to: a broadcast as an elementwise expression (the input read through its broadcast
//! pattern), so it fuses into whatever consumes it and is materialised only if something needs
//! the buffer.
use crate::autograd::{record, sum_to_shape};
use crate::fusion::Space;
use crate::shape::{broadcast_shapes, check_rank};
use crate::{bail, Result, Tensor};

pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "broadcast_to";
    check_rank(OP, shape)?;
    if x.shape() == shape {
        return Ok(x.clone());
    }
    if x.rank() > shape.len() || broadcast_shapes(OP, x.shape(), shape)? != shape {
        bail!(OP, "shape {:?} cannot be broadcast to {:?}", x.shape(), shape);
    }
    let space = Space::new(OP, shape, &[x])?;
    let out = space.tensor(space.read(x)?)?;
    let from = x.shape().to_vec();
    Ok(record(OP, out, &[x], move |g| Ok(vec![Some(sum_to_shape(g.grad, &from)?)])))
}
