//! THE op registry. Elementwise ops are rows of the tables in unary.rs, binary.rs and
//! compare.rs (one row adds an op to both backends); structural ops have a file each.
pub mod binary;
pub mod broadcast;
pub mod cast;
pub mod compare;
pub mod concat;
pub mod conv;
pub mod conv_gpu;
pub mod copy;
pub mod dropout;
pub mod elementwise;
pub mod fill;
pub mod gather;
pub mod im2col;
pub mod losses;
pub mod matmul;
pub mod norm;
pub mod one_hot;
pub mod pad;
pub mod pool;
pub mod random;
pub mod reduce;
pub mod select;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod sgemm_wasm;
pub mod slice;
pub mod softmax;
pub mod transpose;
pub mod unary;

pub use binary::binary;
pub use broadcast::broadcast_to;
pub use cast::cast;
pub use compare::{compare, logical_not};
pub use concat::{concat, stack};
pub use conv::{conv2d, conv2d_transpose, depthwise_conv2d};
pub use dropout::{dropout, moments};
pub use fill::{fill, full_like, ones, zeros};
pub use gather::{embedding, gather};
pub use losses::{binary_cross_entropy, mean_squared_error, sigmoid_cross_entropy, softmax_cross_entropy, sparse_softmax_cross_entropy};
pub use matmul::{matmul, matmul_with, MatmulKernel};
pub use norm::{batch_norm, layer_norm};
pub use one_hot::one_hot;
pub use im2col::{col2im, im2col, Geometry, Padding};
pub use pad::pad;
pub use pool::{avg_pool, max_pool};
pub use random::{random_normal, random_uniform};
pub use reduce::{arg_reduce, reduce, Reduce};
pub use select::where_;
pub use slice::slice;
pub use softmax::{log_softmax, log_sum_exp, softmax};
pub use transpose::transpose;
pub use unary::unary;

use crate::{DType, Result, Tensor};

/// One row of the op table: what an op accepts and whether it has a gradient. Every op runs on
/// both backends: each dispatches with an exhaustive `match` over `Device`, so a backend cannot
/// be missing without the code failing to compile.
#[derive(Debug, Clone, Copy)]
pub struct OpInfo {
    pub name: &'static str,
    pub dtypes: &'static [DType],
    pub gradient: bool,
}

pub const BACKENDS: &[&str] = &["cpu", "webgpu"];

const F: &[DType] = &[DType::F32];
const FI: &[DType] = &[DType::F32, DType::I32, DType::Bool];

/// Ops that are not rows of an elementwise table.
pub const STRUCTURAL: &[OpInfo] = &[
    OpInfo { name: "where", dtypes: FI, gradient: true },
    OpInfo { name: "cast", dtypes: FI, gradient: true },
    OpInfo { name: "fill", dtypes: FI, gradient: false },
    OpInfo { name: "random_uniform", dtypes: F, gradient: false },
    OpInfo { name: "random_normal", dtypes: F, gradient: false },
    OpInfo { name: "logical_not", dtypes: FI, gradient: false },
    OpInfo { name: "sum", dtypes: FI, gradient: true },
    OpInfo { name: "mean", dtypes: FI, gradient: true },
    OpInfo { name: "prod", dtypes: FI, gradient: true },
    OpInfo { name: "max", dtypes: FI, gradient: true },
    OpInfo { name: "min", dtypes: FI, gradient: true },
    OpInfo { name: "argmax", dtypes: FI, gradient: false },
    OpInfo { name: "argmin", dtypes: FI, gradient: false },
    OpInfo { name: "matmul", dtypes: FI, gradient: true },
    OpInfo { name: "reshape", dtypes: FI, gradient: true },
    OpInfo { name: "transpose", dtypes: FI, gradient: true },
    OpInfo { name: "slice", dtypes: FI, gradient: true },
    OpInfo { name: "pad", dtypes: FI, gradient: true },
    OpInfo { name: "concat", dtypes: FI, gradient: true },
    OpInfo { name: "stack", dtypes: FI, gradient: true },
    OpInfo { name: "broadcast_to", dtypes: FI, gradient: true },
    OpInfo { name: "gather", dtypes: FI, gradient: true },
    OpInfo { name: "embedding", dtypes: F, gradient: true },
    OpInfo { name: "one_hot", dtypes: &[DType::I32, DType::Bool], gradient: false },
    OpInfo { name: "softmax", dtypes: F, gradient: true },
    OpInfo { name: "log_softmax", dtypes: F, gradient: true },
    OpInfo { name: "log_sum_exp", dtypes: F, gradient: true },
    OpInfo { name: "dropout", dtypes: F, gradient: true },
    OpInfo { name: "moments", dtypes: F, gradient: true },
    OpInfo { name: "batch_norm", dtypes: F, gradient: true },
    OpInfo { name: "layer_norm", dtypes: F, gradient: true },
    OpInfo { name: "mean_squared_error", dtypes: F, gradient: true },
    OpInfo { name: "softmax_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "sparse_softmax_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "binary_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "sigmoid_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "im2col", dtypes: F, gradient: true },
    OpInfo { name: "col2im", dtypes: F, gradient: true },
    OpInfo { name: "conv2d", dtypes: F, gradient: true },
    OpInfo { name: "depthwise_conv2d", dtypes: F, gradient: true },
    OpInfo { name: "conv2d_transpose", dtypes: F, gradient: true },
    OpInfo { name: "max_pool", dtypes: F, gradient: true },
    OpInfo { name: "avg_pool", dtypes: F, gradient: true },
];

/// The whole op table: elementwise table rows (int32 where the row has an int variant; bool
/// computes as int32) and the structural ops.
pub fn op_table() -> Vec<OpInfo> {
    let mut rows: Vec<OpInfo> = unary::UNARY
        .iter()
        .map(|o| OpInfo { name: o.name, dtypes: if o.i32.is_some() { FI } else { F }, gradient: true })
        .collect();
    rows.extend(binary::BINARY.iter().map(|o| OpInfo { name: o.name, dtypes: if o.i32.is_some() { FI } else { F }, gradient: true }));
    rows.extend(compare::COMPARE.iter().map(|o| OpInfo { name: o.name, dtypes: FI, gradient: false }));
    rows.extend_from_slice(STRUCTURAL);
    rows
}

/// Every op name the engine implements; each runs on both backends (CPU and GPU).
pub fn op_names() -> Vec<&'static str> {
    op_table().into_iter().map(|o| o.name).collect()
}

macro_rules! unary_fns {
    ($($f:ident),*) => { $(
        pub fn $f(x: &Tensor) -> Result<Tensor> { unary(stringify!($f), x, 0.0, 0.0) }
    )* };
}
macro_rules! binary_fns {
    ($($f:ident),*) => { $(
        pub fn $f(a: &Tensor, b: &Tensor) -> Result<Tensor> { binary(stringify!($f), a, b) }
    )* };
}
macro_rules! compare_fns {
    ($($f:ident),*) => { $(
        pub fn $f(a: &Tensor, b: &Tensor) -> Result<Tensor> { compare(stringify!($f), a, b) }
    )* };
}
unary_fns!(neg, abs, exp, log, sqrt, rsqrt, square, reciprocal, relu, relu6, elu, selu, sigmoid, tanh, softplus, erf, gelu, sin, cos, sign, floor, ceil, round);
binary_fns!(add, sub, mul, div, pow, maximum, minimum, squared_difference);
compare_fns!(equal, not_equal, less, less_equal, greater, greater_equal, logical_and, logical_or);

pub fn leaky_relu(x: &Tensor, alpha: f32) -> Result<Tensor> {
    unary("leaky_relu", x, alpha, 0.0)
}

pub fn clip(x: &Tensor, min: f32, max: f32) -> Result<Tensor> {
    if min > max {
        crate::bail!("clip", "min {} is greater than max {}", min, max);
    }
    unary("clip", x, min, max)
}

pub fn reshape(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let s = crate::shape::infer_reshape("reshape", x.shape(), shape)?;
    x.reshape_to(&s)
}

pub fn sum(x: &Tensor, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
    reduce(Reduce::Sum, x, axes, keepdims)
}

pub fn mean(x: &Tensor, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
    reduce(Reduce::Mean, x, axes, keepdims)
}

pub fn max(x: &Tensor, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
    reduce(Reduce::Max, x, axes, keepdims)
}

pub fn min(x: &Tensor, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
    reduce(Reduce::Min, x, axes, keepdims)
}

pub fn argmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    arg_reduce(Reduce::ArgMax, x, axis)
}

pub fn argmin(x: &Tensor, axis: i64) -> Result<Tensor> {
    arg_reduce(Reduce::ArgMin, x, axis)
}
