//! THE op registry. Elementwise ops come in three families (unary/, binary/, compare/), one file
//! per op listed once in its family's `op_family!`; they run fused (src/fusion). Structural ops
//! have a file each.
pub mod attention;
pub mod binary;
pub mod broadcast;
pub mod cast;
pub mod compare;
pub mod concat;
pub mod cumsum;
pub mod einsum;
pub mod conv;
pub mod conv_gpu;
pub mod conv_nchw;
pub mod copy;
pub mod dropout;
pub mod dynamic_quantize;
pub mod fill;
pub mod gather;
pub mod im2col;
pub mod loss_terms;
pub mod losses;
pub mod matmul;
pub mod norm;
pub mod one_hot;
pub(crate) mod packed_weights;
pub mod pad;
mod padded_plane;
pub mod pool;
pub mod pool_nchw;
mod quantized_cpu;
pub mod quantized_integer;
pub mod quantized_matmul;
pub mod random;
pub mod registry;
pub mod reduce;
pub mod rope;
pub mod select;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod sgemm_wasm;
pub mod slice;
pub mod table;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub(crate) mod winograd;

pub use attention::{attention, attention_prefix};
pub use binary::*;
pub use broadcast::broadcast_to;
pub use cast::cast;
pub use compare::*;
pub use concat::{concat, stack};
pub use cumsum::{cumprod, cumsum};
pub use einsum::einsum;
pub use conv::{conv2d, conv2d_transpose, depthwise_conv2d};
pub use conv_nchw::{conv2d_nchw, ConvActivation, ConvWindow};
pub use dropout::dropout;
pub use fill::{fill, full_like, ones, zeros};
pub use gather::{embedding, gather, scatter_add_flat};
pub use loss_terms::{compute_weighted_loss, LossTerms, Reduction};
pub use losses::{
    Loss, binary_cross_entropy, categorical_cross_entropy, hinge, mean_absolute_error, mean_squared_error, sigmoid_cross_entropy, softmax_cross_entropy,
    sparse_categorical_cross_entropy, sparse_softmax_cross_entropy,
};
pub use matmul::{matmul, matmul_with, MatmulKernel};
pub use norm::{batch_norm, layer_norm, moments, rms_norm};
pub use one_hot::one_hot;
pub use im2col::{col2im, im2col, Geometry, Padding};
pub use packed_weights::{packed_bytes as packed_weight_bytes, set_enabled as set_weight_packing};
pub use pad::pad;
pub use pool::{avg_pool, max_pool};
pub use pool_nchw::{pool2d_nchw, PoolKind};
pub use dynamic_quantize::dynamic_quantize_u8;
pub use quantized_integer::quantized_matmul_integer;
pub use quantized_matmul::{quantized_matmul, QuantizedMatrix};
pub use random::{random_normal, random_uniform};
pub use reduce::{arg_reduce, reduce, Reduce};
pub use rope::rope;
pub use select::where_;
pub use slice::slice;
pub use softmax::{log_softmax, log_sum_exp, softmax};
pub use table::{op_names, op_table, OpInfo, BACKENDS};
pub use transpose::transpose;
pub use unary::*;

use crate::{DType, Result, Tensor};

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
