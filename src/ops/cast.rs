//! Casts between float32, float16, int32 and bool. Float to int truncates toward zero and
//! saturates (NaN becomes 0), the same on both backends; anything nonzero is `true`; to float16
//! rounds to the nearest half (ties to even, overflow to infinity). A cast is an elementwise op:
//! it fuses with its neighbours, so a float16 tensor read by float32 work is widened inside the
//! reading kernel, never copied to float32 first.
use crate::fusion::Space;
use crate::{autograd, DType, Result, Tensor};

pub fn cast(x: &Tensor, to: DType) -> Result<Tensor> {
    let from = x.dtype();
    if from == to {
        return Ok(x.clone());
    }
    // Bool and int32 share their bits for 0/1, so bool -> int32 is a relabel.
    if from == DType::Bool && to == DType::I32 {
        return Ok(Tensor::from_storage(x.device(), x.storage().clone(), x.shape().to_vec(), to));
    }
    let space = Space::new("cast", x.shape(), &[x])?;
    let y = space.tensor(space.read(x)?.cast(to))?;
    // Between float32 and float16 the gradient is cast back (int and bool values have none).
    if from.is_float() && to.is_float() {
        return Ok(autograd::record("cast", y, &[x], move |g| Ok(vec![Some(cast(&g.grad, from)?)])));
    }
    Ok(y)
}
