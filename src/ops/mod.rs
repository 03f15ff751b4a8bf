//! THE op registry. Elementwise ops come in three families (unary/, binary/, compare/), one file
//! per op listed once in its family's `op_family!`; they run fused (src/fusion). Structural ops
//! have a file each.
pub mod binary;
pub mod broadcast;
pub mod cast;
pub mod compare;
pub mod concat;
pub mod conv;
pub mod conv_gpu;
pub mod copy;
pub mod dropout;
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
pub mod registry;
pub mod reduce;
pub mod select;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod sgemm_wasm;
pub mod slice;
pub mod softmax;
pub mod transpose;
pub mod unary;

pub use binary::{add, binary, div, maximum, minimum, mul, pow, squared_difference, sub, BinaryOp};
pub use broadcast::broadcast_to;
pub use cast::cast;
pub use compare::{compare, equal, greater, greater_equal, less, less_equal, logical_and, logical_not, logical_or, not_equal, CompareOp};
pub use concat::{concat, stack};
pub use conv::{conv2d, conv2d_transpose, depthwise_conv2d};
pub use dropout::dropout;
pub use fill::{fill, full_like, ones, zeros};
pub use gather::{embedding, gather};
pub use losses::{
    Loss, binary_cross_entropy, categorical_cross_entropy, hinge, mean_absolute_error, mean_squared_error, sigmoid_cross_entropy, softmax_cross_entropy,
    sparse_categorical_cross_entropy, sparse_softmax_cross_entropy,
};
pub use matmul::{matmul, matmul_with, MatmulKernel};
pub use norm::{batch_norm, layer_norm, moments, rms_norm};
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
pub use unary::{
    abs, ceil, clip, cos, elu, erf, exp, floor, gelu, leaky_relu, log, neg, reciprocal, relu, relu6, round, rsqrt, selu, sigmoid,
    sign, sin, softplus, sqrt, square, tanh, unary, UnaryOp,
};

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
    OpInfo { name: "cast", dtypes: FI, gradient: false },
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
    OpInfo { name: "rms_norm", dtypes: F, gradient: true },
    OpInfo { name: "mean_squared_error", dtypes: F, gradient: true },
    OpInfo { name: "softmax_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "sparse_softmax_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "binary_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "sigmoid_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "mean_absolute_error", dtypes: F, gradient: true },
    OpInfo { name: "categorical_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "sparse_categorical_cross_entropy", dtypes: F, gradient: true },
    OpInfo { name: "hinge", dtypes: F, gradient: true },
    OpInfo { name: "im2col", dtypes: F, gradient: true },
    OpInfo { name: "col2im", dtypes: F, gradient: true },
    OpInfo { name: "conv2d", dtypes: F, gradient: true },
    OpInfo { name: "depthwise_conv2d", dtypes: F, gradient: true },
    OpInfo { name: "conv2d_transpose", dtypes: F, gradient: true },
    OpInfo { name: "max_pool", dtypes: F, gradient: true },
    OpInfo { name: "avg_pool", dtypes: F, gradient: true },
];

/// The whole op table: the elementwise families' rows (int32 where the op has an int variant;
/// bool computes as int32; the gradient column read from each definition) and the structural ops.
pub fn op_table() -> Vec<OpInfo> {
    let mut rows: Vec<OpInfo> = UnaryOp::ALL
        .iter()
        .map(|o| o.def())
        .map(|d| OpInfo { name: d.name, dtypes: if d.i32.is_some() { FI } else { F }, gradient: d.grad.is_some() })
        .collect();
    rows.extend(BinaryOp::ALL.iter().map(|o| o.def()).map(|d| OpInfo { name: d.name, dtypes: if d.i32.is_some() { FI } else { F }, gradient: d.grad.is_some() }));
    rows.extend(CompareOp::ALL.iter().map(|o| OpInfo { name: o.name(), dtypes: FI, gradient: false }));
    rows.extend_from_slice(STRUCTURAL);
    rows
}

/// Every op name the engine implements; each runs on both backends (CPU and GPU).
pub fn op_names() -> Vec<&'static str> {
    op_table().into_iter().map(|o| o.name).collect()
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
