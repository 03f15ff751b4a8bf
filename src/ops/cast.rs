//! Casts between float32, int32 and bool. Float to int truncates toward zero and saturates
//! (NaN becomes 0), the same on both backends; anything nonzero is `true`. A cast is an
//! elementwise op: it fuses with its neighbours.
use crate::fusion::Space;
use crate::{DType, Result, Tensor};

pub fn cast(x: &Tensor, to: DType) -> Result<Tensor> {
    let from = x.dtype();
    if from == to {
        return Ok(x.clone());
    }
    // Bool and int32 share their bits for 0/1, so bool -> int32 is a relabel.
    if from == DType::Bool && to == DType::I32 {
        return Ok(Tensor::from_storage(x.device(), x.storage().clone(), x.shape().to_vec(), to));
    }
    // No gradient: a float -> float cast returned `x` above, and int and bool values have none.
    let space = Space::new("cast", x.shape(), &[x])?;
    space.tensor(space.read(x)?.cast(to))
}
