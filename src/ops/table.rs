//! The op table (`tf.opTable()`, docs/OPS.md), read from the code rather than typed by hand:
//! elementwise ops from their definitions (a gradient rule is there or not; an int32 variant is
//! there or not), every other op by running it. Each structural op has one line below: its name
//! and an example call on a tiny CPU tensor `x` ([2, 3]) of the dtype being asked about. The dtypes
//! an op takes are those its example accepts, and it has a gradient when its example's result,
//! with a float `x` that requires gradients, records one.
use super::*;
use crate::autograd::no_grad;
use crate::Device;

/// One row of the op table: what an op accepts and whether it has a gradient. Every op runs on
/// both backends: each dispatches with an exhaustive `match` over `Device`, so a backend cannot
/// be missing without the code failing to compile.
#[derive(Debug, Clone)]
pub struct OpInfo {
    pub name: &'static str,
    pub dtypes: Vec<DType>,
    pub gradient: bool,
}

pub const BACKENDS: &[&str] = &["cpu", "webgpu"];

type Example = fn(&Tensor) -> Result<Tensor>;

fn ints(values: &[i32], shape: &[usize]) -> Result<Tensor> {
    Tensor::from_i32(&Device::Cpu, values, shape)
}

fn floats(values: &[f32], shape: &[usize]) -> Result<Tensor> {
    Tensor::from_f32(&Device::Cpu, values, shape)
}

/// `x` as a 1 x 2 x 3 x 1 image.
fn image(x: &Tensor) -> Result<Tensor> {
    x.reshape_to(&[1, 2, 3, 1])
}

fn window() -> Result<Geometry> {
    Geometry::new("table", &[1, 2, 3, 1], (1, 2), (1, 1), (1, 1), Padding::Valid)
}

/// Generators take no tensor: they produce float32 (`x` only says which dtype is asked about).
fn float_only(x: &Tensor) -> Result<()> {
    if x.dtype() != DType::F32 {
        crate::bail!("table", "float32 only");
    }
    Ok(())
}

const STRUCTURAL: &[(&str, Example)] = &[
    ("where", |x| where_(&cast(x, DType::Bool)?, x, x)),
    ("cast", |x| cast(x, DType::F32)),
    ("fill", |x| fill(x.device(), x.shape(), 1.0, x.dtype())),
    ("random_uniform", |x| float_only(x).and_then(|_| random_uniform(x.device(), x.shape(), 0.0, 1.0, Some(1)))),
    ("random_normal", |x| float_only(x).and_then(|_| random_normal(x.device(), x.shape(), 0.0, 1.0, Some(1)))),
    ("logical_not", logical_not),
    ("sum", |x| sum(x, Some(&[1]), false)),
    ("mean", |x| mean(x, Some(&[1]), false)),
    ("prod", |x| reduce(Reduce::Prod, x, Some(&[1]), false)),
    ("max", |x| max(x, Some(&[1]), false)),
    ("min", |x| min(x, Some(&[1]), false)),
    ("argmax", |x| argmax(x, 1)),
    ("argmin", |x| argmin(x, 1)),
    ("log_sum_exp", |x| log_sum_exp(x, 1, false)),
    ("matmul", |x| matmul(x, x, false, true)),
    ("quantized_matmul", |x| quantized_matmul(x, &QuantizedMatrix::quantize(x.device(), &[0.5, -1.0, 2.0, 1.0, 0.0, -0.5], 3, 2, 4, 8, true)?)),
    ("reshape", |x| reshape(x, &[3, 2])),
    ("transpose", |x| transpose(x, None)),
    ("slice", |x| slice(x, &[0, 1], &[2, 2])),
    ("pad", |x| pad(x, &[(1, 0), (0, 1)], 0.0)),
    ("concat", |x| concat(&[x, x], 0)),
    ("stack", |x| stack(&[x, x], 0)),
    ("broadcast_to", |x| broadcast_to(&x.reshape_to(&[1, 2, 3])?, &[2, 2, 3])),
    ("gather", |x| gather(x, &ints(&[1, 0], &[2])?, 0)),
    ("embedding", |x| embedding(x, &ints(&[1, 0, 1], &[3])?)),
    ("one_hot", |x| one_hot(x, 4)),
    ("softmax", |x| softmax(x, -1)),
    ("log_softmax", |x| log_softmax(x, -1)),
    ("dropout", |x| dropout(x, 0.5, Some(1))),
    ("moments", |x| Ok(moments(x, &[1], false)?.1)),
    ("batch_norm", |x| batch_norm(x, x, x, Some(x), Some(x), 1e-3)),
    ("layer_norm", |x| layer_norm(x, None, None, 1e-3)),
    ("attention", |x| x.reshape_to(&[1, 1, 2, 3]).and_then(|q| attention(&q, &q, &q, None, true, None))),
    ("rope", |x| rope(x, &ones(x.device(), &[2, 1], DType::F32)?, &zeros(x.device(), &[2, 1], DType::F32)?, 0, false)),
    ("rms_norm", |x| rms_norm(x, None, 1e-3)),
    ("mean_squared_error", |x| mean_squared_error(x, x)),
    ("mean_absolute_error", |x| mean_absolute_error(x, x)),
    ("softmax_cross_entropy", |x| softmax_cross_entropy(x, x)),
    ("sparse_softmax_cross_entropy", |x| sparse_softmax_cross_entropy(&ints(&[1, 0], &[2])?, x)),
    ("binary_cross_entropy", |x| binary_cross_entropy(x, x)),
    ("sigmoid_cross_entropy", |x| sigmoid_cross_entropy(x, x)),
    ("categorical_cross_entropy", |x| categorical_cross_entropy(x, x)),
    ("sparse_categorical_cross_entropy", |x| sparse_categorical_cross_entropy(&ints(&[1, 0], &[2])?, x)),
    ("hinge", |x| hinge(x, x)),
    ("im2col", |x| im2col(&image(x)?, &window()?, 0.0)),
    ("col2im", |x| col2im(&concat(&[x, x], 0)?.slice_cols(2)?, &window()?)),
    ("conv2d", |x| conv2d(&image(x)?, &floats(&[1.0, 2.0], &[1, 2, 1, 1])?, (1, 1), Padding::Same, (1, 1))),
    ("conv2d_nchw", |x| conv2d_nchw(&x.reshape_to(&[1, 1, 2, 3])?, &floats(&[1.0, 2.0], &[1, 1, 1, 2])?, None, ConvWindow { strides: (1, 1), dilations: (1, 1), padding: Padding::Valid, group: 1 }, None)),
    ("depthwise_conv2d", |x| depthwise_conv2d(&image(x)?, &floats(&[1.0, 2.0], &[1, 2, 1, 1])?, (1, 1), Padding::Same, (1, 1))),
    ("conv2d_transpose", |x| conv2d_transpose(&image(x)?, &floats(&[1.0, 2.0], &[1, 2, 1, 1])?, &[1, 2, 3, 1], (1, 1), Padding::Same)),
    ("max_pool", |x| max_pool(&image(x)?, (1, 2), (1, 1), Padding::Valid)),
    ("avg_pool", |x| avg_pool(&image(x)?, (1, 2), (1, 1), Padding::Valid)),
    ("max_pool_nchw", |x| pool2d_nchw(PoolKind::Max, &x.reshape_to(&[1, 1, 2, 3])?, (1, 2), (1, 1), Padding::Valid)),
    ("avg_pool_nchw", |x| pool2d_nchw(PoolKind::Avg, &x.reshape_to(&[1, 1, 2, 3])?, (1, 2), (1, 1), Padding::Valid)),
];

trait Cols {
    fn slice_cols(&self, n: usize) -> Result<Tensor>;
}

impl Cols for Tensor {
    /// The first `n` columns (im2col of the 1x2 window over a 2x3 image is 4 x 2).
    fn slice_cols(&self, n: usize) -> Result<Tensor> {
        slice(self, &[0, 0], &[-1, n as i64])
    }
}

/// The row of a structural op, from running its example.
fn probe(name: &'static str, example: Example) -> OpInfo {
    let values = [0.5f32, -1.5, 2.0, 1.0, -0.25, 3.0];
    let mut dtypes = Vec::new();
    for dtype in [DType::F32, DType::I32, DType::Bool] {
        let x = Tensor::from_f32(&Device::Cpu, &values, &[2, 3]).and_then(|x| no_grad(|| cast(&x, dtype)));
        if x.and_then(|x| example(&x)).is_ok() {
            dtypes.push(dtype);
        }
    }
    let gradient = Tensor::from_f32(&Device::Cpu, &values, &[2, 3])
        .and_then(|x| {
            x.set_requires_grad(true)?;
            example(&x)
        })
        .is_ok_and(|y| y.tracks_grad());
    OpInfo { name, dtypes, gradient }
}

/// The whole op table: the elementwise families' rows (int32 where the op has an int variant;
/// bool computes as int32), then the structural ops.
pub fn op_table() -> Vec<OpInfo> {
    let all = || vec![DType::F32, DType::I32, DType::Bool];
    let dtypes = |int: bool| if int { all() } else { vec![DType::F32] };
    let mut rows: Vec<OpInfo> = UnaryOp::ALL.iter().map(|o| o.def()).map(|d| OpInfo { name: d.name, dtypes: dtypes(d.i32.is_some()), gradient: d.grad.is_some() }).collect();
    rows.extend(BinaryOp::ALL.iter().map(|o| o.def()).map(|d| OpInfo { name: d.name, dtypes: dtypes(d.i32.is_some()), gradient: d.grad.is_some() }));
    rows.extend(CompareOp::ALL.iter().map(|o| OpInfo { name: o.name(), dtypes: all(), gradient: false }));
    rows.extend(STRUCTURAL.iter().map(|&(name, example)| probe(name, example)));
    rows
}

/// Every op name the engine implements; each runs on both backends (CPU and GPU).
pub fn op_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = UnaryOp::ALL.iter().map(|o| o.name()).collect();
    names.extend(BinaryOp::ALL.iter().map(|o| o.name()));
    names.extend(CompareOp::ALL.iter().map(|o| o.name()));
    names.extend(STRUCTURAL.iter().map(|&(name, _)| name));
    names
}
