//! Casts between float32, int32 and bool. Float to int truncates toward zero and saturates
//! (NaN becomes 0), the same on both backends; anything nonzero is `true`.
use super::elementwise::{self, Gpu};
use crate::{DType, Result, Tensor};

pub fn cast(x: &Tensor, to: DType) -> Result<Tensor> {
    let from = x.dtype();
    if from == to {
        return Ok(x.clone());
    }
    // Bool and int32 share their bits for 0/1, so bool -> int32 is a relabel.
    if from == DType::Bool && to == DType::I32 {
        return Ok(relabel(x, to));
    }
    let (expr, f): (&str, fn(u32) -> u32) = match (from, to) {
        (DType::F32, DType::I32) => ("f32_to_i32(a)", |w| (f32::from_bits(w) as i32) as u32),
        (DType::F32, DType::Bool) => ("i32(a != 0.0 || is_nan(a))", |w| (f32::from_bits(w) != 0.0) as u32),
        (DType::I32 | DType::Bool, DType::F32) => ("f32(a)", |w| (w as i32 as f32).to_bits()),
        (DType::I32, DType::Bool) => ("i32(a != 0)", |w| (w != 0) as u32),
        _ => unreachable!("same-dtype and bool->int32 casts return above"),
    };
    let key = format!("cast:{}:{}", from.name(), to.name());
    elementwise::run("cast", &[x], x.shape(), to, None, Gpu::new(&key, expr), |w, _| f(w[0]))
}

fn relabel(t: &Tensor, dtype: DType) -> Tensor {
    Tensor::from_storage(t.device(), t.storage().clone(), t.shape().to_vec(), dtype)
}
