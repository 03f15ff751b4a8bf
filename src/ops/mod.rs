//! THE op registry. Elementwise ops are rows of the tables in unary.rs, binary.rs and
//! compare.rs (one row adds an op to both backends); structural ops have a file each.
pub mod binary;
pub mod broadcast;
pub mod cast;
pub mod compare;
pub mod concat;
pub mod conv;
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

use crate::{Result, Tensor};

/// Ops that are not rows of an elementwise table, by the name errors and the op table use.
pub const STRUCTURAL_OPS: &[&str] = &[
    "where", "cast", "fill", "random_uniform", "random_normal", "logical_not", "sum", "mean", "prod", "max", "min",
    "argmax", "argmin", "matmul", "reshape", "transpose", "slice", "pad", "concat", "stack", "broadcast_to", "one_hot", "softmax", "log_softmax",
    "log_sum_exp", "dropout", "moments", "mean_squared_error", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
    "binary_cross_entropy", "sigmoid_cross_entropy", "im2col", "col2im", "conv2d", "depthwise_conv2d", "conv2d_transpose",
    "max_pool", "avg_pool", "gather", "embedding", "batch_norm", "layer_norm",
];

/// Every op name the engine implements; each runs on both backends (CPU and GPU).
pub fn op_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = unary::UNARY.iter().map(|o| o.name).collect();
    names.extend(binary::BINARY.iter().map(|o| o.name));
    names.extend(compare::COMPARE.iter().map(|o| o.name));
    names.extend(STRUCTURAL_OPS);
    names
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
