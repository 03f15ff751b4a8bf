//! The op suite, shared by the native tests (tests/native.rs: CPU and wgpu on Vulkan) and the
//! browser tests (tests/web.rs: WebGPU in headless Chromium). Each case is an async fn over a
//! device; values are checked against hand-derived numbers or an independent f64 reference
//! computed here (never against the backend's own kernels).
#![allow(dead_code)]

use std::rc::Rc;

use webtensor::ops::{self, Loss, Reduce};
use webtensor::{DType, Device, Tensor};

pub type CaseResult = Result<(), String>;

/// Deterministic inputs (xorshift), independent of the engine's own generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Values in [lo, hi).
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.next_f32()).collect()
    }
}

fn e<T: std::fmt::Display>(x: T) -> String {
    x.to_string()
}

pub fn t(dev: &Device, data: &[f32], shape: &[usize]) -> Result<Tensor, String> {
    Tensor::from_f32(dev, data, shape).map_err(e)
}

pub fn ti(dev: &Device, data: &[i32], shape: &[usize]) -> Result<Tensor, String> {
    Tensor::from_i32(dev, data, shape).map_err(e)
}

pub async fn read(x: &Tensor) -> Result<Vec<f32>, String> {
    x.to_vec_f32().await.map_err(e)
}

pub async fn read_i(x: &Tensor) -> Result<Vec<i32>, String> {
    x.to_vec_i32().await.map_err(e)
}

/// |got - want| <= atol + rtol * |want| elementwise, NaN matching NaN and infinities exactly.
pub fn close(what: &str, got: &[f32], want: &[f64], rtol: f64, atol: f64) -> CaseResult {
    if got.len() != want.len() {
        return Err(format!("{what}: {} values, expected {}", got.len(), want.len()));
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = g as f64;
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        if !ok {
            return Err(format!("{what}: element {i} is {g}, expected {w} (rtol {rtol}, atol {atol})"));
        }
    }
    Ok(())
}

fn exact(what: &str, got: &[f32], want: &[f32]) -> CaseResult {
    let want: Vec<f64> = want.iter().map(|&v| v as f64).collect();
    close(what, got, &want, 0.0, 0.0)
}

fn same_i(what: &str, got: &[i32], want: &[i32]) -> CaseResult {
    if got != want {
        return Err(format!("{what}: got {got:?}, expected {want:?}"));
    }
    Ok(())
}

fn shape_is(what: &str, x: &Tensor, want: &[usize]) -> CaseResult {
    if x.shape() != want {
        return Err(format!("{what}: shape {:?}, expected {:?}", x.shape(), want));
    }
    Ok(())
}

/// Broadcasting reference in f64: out[i] = f(a[ia], b[ib]).
fn broadcast_ref(a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], f: impl Fn(f64, f64) -> f64) -> (Vec<f64>, Vec<usize>) {
    let rank = sa.len().max(sb.len());
    let pad = |s: &[usize]| -> Vec<usize> { std::iter::repeat_n(1, rank - s.len()).chain(s.iter().copied()).collect() };
    let (pa, pb) = (pad(sa), pad(sb));
    let out: Vec<usize> = (0..rank).map(|d| pa[d].max(pb[d])).collect();
    let n: usize = out.iter().product();
    let mut res = Vec::with_capacity(n);
    for i in 0..n {
        let (mut rem, mut ia, mut ib, mut sta, mut stb) = (i, 0, 0, 1, 1);
        for d in (0..rank).rev() {
            let c = rem % out[d];
            rem /= out[d];
            ia += if pa[d] == 1 { 0 } else { c * sta };
            ib += if pb[d] == 1 { 0 } else { c * stb };
            sta *= pa[d];
            stb *= pb[d];
        }
        res.push(f(a[ia] as f64, b[ib] as f64));
    }
    (res, out)
}

// ---------------------------------------------------------------------------------------------
// Elementwise

pub async fn binary_hand_values(dev: Device) -> CaseResult {
    let a = t(&dev, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    let b = t(&dev, &[10.0, 20.0, 30.0], &[3])?;
    exact("add", &read(&ops::add(&a, &b).map_err(e)?).await?, &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0])?;
    exact("sub", &read(&ops::sub(&a, &b).map_err(e)?).await?, &[-9.0, -18.0, -27.0, -6.0, -15.0, -24.0])?;
    let col = t(&dev, &[2.0, -1.0], &[2, 1])?;
    let r = ops::mul(&a, &col).map_err(e)?;
    shape_is("mul", &r, &[2, 3])?;
    exact("mul", &read(&r).await?, &[2.0, 4.0, 6.0, -4.0, -5.0, -6.0])?;
    exact("div", &read(&ops::div(&b, &t(&dev, &[4.0], &[])?).map_err(e)?).await?, &[2.5, 5.0, 7.5])?;
    // [2,1] x [1,3] -> [2,3]
    let row = t(&dev, &[1.0, 2.0, 3.0], &[1, 3])?;
    let outer = ops::mul(&col, &row).map_err(e)?;
    exact("outer", &read(&outer).await?, &[2.0, 4.0, 6.0, -1.0, -2.0, -3.0])?;
    // IEEE: 1/0 = inf, -1/0 = -inf, 0/0 = NaN
    let num = t(&dev, &[1.0, -1.0, 0.0], &[3])?;
    let zero = t(&dev, &[0.0], &[1])?;
    let got = read(&ops::div(&num, &zero).map_err(e)?).await?;
    close("div by zero", &got, &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0)?;
    let pw = ops::pow(&t(&dev, &[-2.0, 2.0, -3.0, 0.0, -2.0], &[5])?, &t(&dev, &[2.0, 0.5, 3.0, 0.0, 0.5], &[5])?).map_err(e)?;
    close("pow", &read(&pw).await?, &[4.0, std::f64::consts::SQRT_2, -27.0, 1.0, f64::NAN], 1e-6, 0.0)?;
    Ok(())
}

fn unary_ref(name: &str, x: f64) -> f64 {
    match name {
        "neg" => -x,
        "abs" => x.abs(),
        "exp" => x.exp(),
        "log" => x.ln(),
        "sqrt" => x.sqrt(),
        "rsqrt" => 1.0 / x.sqrt(),
        "square" => x * x,
        "reciprocal" => 1.0 / x,
        "relu" => x.max(0.0),
        "relu6" => x.clamp(0.0, 6.0),
        "leaky_relu" => if x >= 0.0 { x } else { 0.2 * x },
        "elu" => if x > 0.0 { x } else { x.exp() - 1.0 },
        "selu" => 1.0507009873554805 * if x > 0.0 { x } else { 1.6732632423543772 * (x.exp() - 1.0) },
        "sigmoid" => 1.0 / (1.0 + (-x).exp()),
        "tanh" => x.tanh(),
        "softplus" => (1.0 + x.exp()).ln(),
        "erf" => erf_f64(x),
        "gelu" => 0.5 * x * (1.0 + erf_f64(x / std::f64::consts::SQRT_2)),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "sign" => if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 },
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        "round" => x.round_ties_even(),
        "clip" => x.clamp(-0.5, 0.75),
        "log_sigmoid" => -(1.0 + (-x).exp()).ln(),
        "gelu_tanh" => 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh()),
        "silu" => x / (1.0 + (-x).exp()),
        "tan" => x.tan(),
        "asin" => x.asin(),
        "acos" => x.acos(),
        "atan" => x.atan(),
        "sinh" => x.sinh(),
        "cosh" => x.cosh(),
        "asinh" => x.asinh(),
        "acosh" => x.acosh(),
        "atanh" => x.atanh(),
        "log1p" => x.ln_1p(),
        "expm1" => x.exp_m1(),
        "round_f16" => half::f16::from_f64(x).to_f64(),
        other => panic!("no reference for unary op {other}"),
    }
}

/// erf by its Maclaurin series (converges fast for |x| <= 4, where the tests sample).
fn erf_f64(x: f64) -> f64 {
    let mut sum = 0.0;
    let mut term = x;
    for n in 0..200 {
        sum += term / (2 * n + 1) as f64;
        term *= -x * x / (n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

pub async fn unary_ops_vs_reference(dev: Device) -> CaseResult {
    let mut rng = Rng::new(1);
    for op in ops::UnaryOp::ALL.iter().map(|o| o.def()) {
        let mut data = match op.name {
            "log" | "sqrt" | "rsqrt" => rng.vec(37, 0.05, 4.0),
            "asin" | "acos" | "atanh" => rng.vec(37, -0.95, 0.95),
            "acosh" => rng.vec(37, 1.0, 4.0),
            "tan" => rng.vec(37, -1.4, 1.4),
            // small values too, where log1p and expm1 must not cancel
            "log1p" | "expm1" => [rng.vec(30, -0.9, 4.0), vec![1e-6, -1e-6, 3e-8, 1e-4, -1e-4, 0.0, 0.5]].concat(),
            _ => rng.vec(37, -4.0, 4.0),
        };
        if op.name == "round" {
            data.extend([0.5, 1.5, 2.5, -0.5, -2.5]);
        }
        let x = t(&dev, &data, &[data.len()])?;
        let (alpha, beta) = match op.name {
            "leaky_relu" => (0.2, 0.0),
            "clip" => (-0.5, 0.75),
            _ => (0.0, 0.0),
        };
        let got = read(&ops::unary(ops::UnaryOp::parse(op.name).unwrap(), &x, alpha, beta).map_err(e)?).await?;
        let want: Vec<f64> = data.iter().map(|&v| unary_ref(op.name, v as f64)).collect();
        // WGSL only promises an absolute error of 2^-11 for sin and cos (SwiftShader uses it), and
        // tan, asin, acos and atan are built from them; the hyperbolic ones from exp.
        let (rtol, atol) = match op.name {
            "sin" | "cos" | "tan" | "asin" | "acos" | "atan" => (2e-4, 1e-3),
            "sinh" | "cosh" | "asinh" | "acosh" | "atanh" => (1e-4, 1e-5),
            // relative accuracy is the point of these two, down to tiny x
            "log1p" | "expm1" => (5e-5, 1e-12),
            _ => (2e-5, 2e-6),
        };
        close(op.name, &got, &want, rtol, atol)?;
    }
    // IEEE edge cases that WGSL leaves open and the engine pins down.
    let edge = t(&dev, &[0.0, -1.0, 1e4, -1e4], &[4])?;
    close("log edge", &read(&ops::log(&edge).map_err(e)?).await?, &[f64::NEG_INFINITY, f64::NAN, 1e4f64.ln(), f64::NAN], 1e-5, 0.0)?;
    close("sqrt edge", &read(&ops::sqrt(&edge).map_err(e)?).await?, &[0.0, f64::NAN, 100.0, f64::NAN], 1e-6, 0.0)?;
    close("tanh edge", &read(&ops::tanh(&edge).map_err(e)?).await?, &[0.0, (-1f64).tanh(), 1.0, -1.0], 1e-6, 1e-7)?;
    close("sigmoid edge", &read(&ops::sigmoid(&edge).map_err(e)?).await?, &[0.5, 1.0 / (1.0 + 1f64.exp()), 1.0, 0.0], 1e-6, 1e-7)?;
    close("softplus edge", &read(&ops::softplus(&edge).map_err(e)?).await?, &[2f64.ln(), (1.0 + (-1f64).exp()).ln(), 1e4, 0.0], 1e-5, 1e-7)?;
    let ends = t(&dev, &[1.0, -1.0, 1.5, -1.5], &[4])?;
    close("asin edge", &read(&ops::asin(&ends).map_err(e)?).await?, &[std::f64::consts::FRAC_PI_2, -std::f64::consts::FRAC_PI_2, f64::NAN, f64::NAN], 1e-4, 1e-3)?;
    close("atanh edge", &read(&ops::atanh(&ends).map_err(e)?).await?, &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::NAN], 0.0, 0.0)?;
    close("acosh edge", &read(&ops::acosh(&ends).map_err(e)?).await?, &[0.0, f64::NAN, 1.5f64.acosh(), f64::NAN], 1e-5, 1e-6)?;
    close("log1p edge", &read(&ops::log1p(&ends).map_err(e)?).await?, &[2f64.ln(), f64::NEG_INFINITY, 2.5f64.ln(), f64::NAN], 1e-5, 0.0)?;
    close("expm1 edge", &read(&ops::expm1(&edge).map_err(e)?).await?, &[0.0, (-1f64).exp_m1(), f64::INFINITY, -1.0], 1e-5, 0.0)?;
    // NaN stays NaN through relu, relu6, clip, maximum, minimum, max and min (as TF.js).
    let nan = t(&dev, &[f32::NAN, -1.0, 2.0], &[3])?;
    let zero = t(&dev, &[0.0; 3], &[3])?;
    let n = f64::NAN;
    close("relu NaN", &read(&ops::relu(&nan).map_err(e)?).await?, &[n, 0.0, 2.0], 0.0, 0.0)?;
    close("relu6 NaN", &read(&ops::relu6(&nan).map_err(e)?).await?, &[n, 0.0, 2.0], 0.0, 0.0)?;
    close("clip NaN", &read(&ops::unary(ops::UnaryOp::Clip, &nan, -0.5, 0.5).map_err(e)?).await?, &[n, -0.5, 0.5], 0.0, 0.0)?;
    close("maximum NaN", &read(&ops::maximum(&nan, &zero).map_err(e)?).await?, &[n, 0.0, 2.0], 0.0, 0.0)?;
    close("minimum NaN", &read(&ops::minimum(&zero, &nan).map_err(e)?).await?, &[n, -1.0, 0.0], 0.0, 0.0)?;
    close("max NaN", &read(&ops::max(&nan, None, false).map_err(e)?).await?, &[n], 0.0, 0.0)?;
    close("min NaN", &read(&ops::reduce(Reduce::Min, &nan, None, false).map_err(e)?).await?, &[n], 0.0, 0.0)?;
    Ok(())
}

pub async fn binary_ops_vs_reference(dev: Device) -> CaseResult {
    let mut rng = Rng::new(2);
    let shapes: &[(&[usize], &[usize])] = &[(&[5], &[5]), (&[2, 3, 4], &[3, 1]), (&[], &[4, 2]), (&[1, 4, 1], &[3, 1, 5]), (&[2, 1, 3, 1, 2], &[4, 1, 1, 1])];
    for op in ops::BinaryOp::ALL.iter().map(|o| o.def()) {
        for (sa, sb) in shapes {
            let na: usize = sa.iter().product();
            let nb: usize = sb.iter().product();
            let a = rng.vec(na, 0.1, 3.0);
            let b = if op.name == "div" { rng.vec(nb, 0.5, 3.0) } else { rng.vec(nb, -2.0, 2.0) };
            let f = |x: f64, y: f64| match op.name {
                "add" => x + y,
                "sub" => x - y,
                "mul" => x * y,
                "div" => x / y,
                "pow" => x.powf(y),
                "maximum" => x.max(y),
                "minimum" => x.min(y),
                "squared_difference" => (x - y) * (x - y),
                "mod" => x - (x / y).floor() * y,
                "atan2" => x.atan2(y),
                // (an integer op: on floats, of their truncations; the JS tests check int32 against TF.js)
                "bitwise_and" => ((x as i32) & (y as i32)) as f64,
                other => panic!("no reference for {other}"),
            };
            let (want, out_shape) = broadcast_ref(&a, sa, &b, sb, f);
            let r = ops::binary(ops::BinaryOp::parse(op.name).unwrap(), &t(&dev, &a, sa)?, &t(&dev, &b, sb)?).map_err(e)?;
            shape_is(op.name, &r, &out_shape)?;
            // WGSL's atan2 is as loose as its atan (SwiftShader: 2^-11 absolute)
            let (rtol, atol) = if op.name == "atan2" { (2e-4, 1e-3) } else { (2e-5, 1e-6) };
            close(&format!("{} {:?} {:?}", op.name, sa, sb), &read(&r).await?, &want, rtol, atol)?;
        }
    }
    Ok(())
}

pub async fn int_and_bool_ops(dev: Device) -> CaseResult {
    let a = ti(&dev, &[7, -7, 7, -7, 5, 0], &[6])?;
    let b = ti(&dev, &[2, 2, -2, -2, 0, 3], &[6])?;
    let q = ops::div(&a, &b).map_err(e)?;
    if q.dtype() != DType::I32 {
        return Err(format!("int div gave {}", q.dtype()));
    }
    same_i("floor div", &read_i(&q).await?, &[3, -4, -4, 3, 0, 0])?;
    same_i("int add", &read_i(&ops::add(&a, &b).map_err(e)?).await?, &[9, -5, 5, -9, 5, 3])?;
    same_i("int max", &read_i(&ops::maximum(&a, &b).map_err(e)?).await?, &[7, 2, 7, -2, 5, 3])?;
    same_i("int abs", &read_i(&ops::abs(&a).map_err(e)?).await?, &[7, 7, 7, 7, 5, 0])?;
    // floored modulo: the sign of the divisor; x mod 0 is 0 for ints
    same_i("int mod", &read_i(&ops::modulo(&a, &b).map_err(e)?).await?, &[1, 1, -1, -1, 0, 0])?;
    // TF.js keeps these int: clip (bounds applied in float, truncated), relu6, pow, reciprocal
    let int_only = |name: &str, r: &Tensor| if r.dtype() == DType::I32 { Ok(()) } else { Err(format!("{name} of int32 gave {}", r.dtype())) };
    let c = ops::clip(&a, -1.5, 6.0).map_err(e)?;
    int_only("clip", &c)?;
    same_i("int clip", &read_i(&c).await?, &[6, -1, 6, -1, 5, 0])?;
    let r6 = ops::relu6(&a).map_err(e)?;
    int_only("relu6", &r6)?;
    same_i("int relu6", &read_i(&r6).await?, &[6, 0, 6, 0, 5, 0])?;
    let bases = ti(&dev, &[3, -2, 5, 1, -1, 0, 7, 2], &[8])?;
    let exps = ti(&dev, &[4, 3, -2, -5, -3, 0, 12, 31], &[8])?;
    let p = ops::pow(&bases, &exps).map_err(e)?;
    int_only("pow", &p)?;
    same_i("int pow", &read_i(&p).await?, &[81, -8, 0, 1, -1, 1, 13_841_287_201i64 as i32, i32::MIN])?;
    let rc = ops::reciprocal(&ti(&dev, &[1, -1, 3, 0], &[4])?).map_err(e)?;
    int_only("reciprocal", &rc)?;
    same_i("int reciprocal", &read_i(&rc).await?, &[1, -1, 0, 0])?;
    let fm = ops::modulo(&t(&dev, &[5.5, -5.5, 5.5, 1.0], &[4])?, &t(&dev, &[2.0, 2.0, -2.0, 0.0], &[4])?).map_err(e)?;
    close("float mod", &read(&fm).await?, &[1.5, 0.5, -0.5, f64::NAN], 0.0, 0.0)?;
    let ls = ops::log_sigmoid(&t(&dev, &[100.0, -100.0, 0.0], &[3])?).map_err(e)?;
    close("log_sigmoid far out", &read(&ls).await?, &[0.0, -100.0, -(2f64.ln())], 1e-6, 1e-30)?;
    // int + float promotes to float
    let mixed = ops::add(&a, &t(&dev, &[0.5], &[])?).map_err(e)?;
    if mixed.dtype() != DType::F32 {
        return Err(format!("int + float gave {}", mixed.dtype()));
    }
    exact("promote", &read(&mixed).await?, &[7.5, -6.5, 7.5, -6.5, 5.5, 0.5])?;
    // exp of int32 is computed in float
    close("exp(int)", &read(&ops::exp(&ti(&dev, &[0, 1], &[2])?).map_err(e)?).await?, &[1.0, 1f64.exp()], 1e-6, 0.0)?;
    let x = t(&dev, &[1.0, 2.0, 3.0, f32::NAN], &[4])?;
    let y = t(&dev, &[2.0], &[1])?;
    let checks: [(&str, [i32; 4]); 6] = [
        ("equal", [0, 1, 0, 0]),
        ("not_equal", [1, 0, 1, 1]),
        ("less", [1, 0, 0, 0]),
        ("less_equal", [1, 1, 0, 0]),
        ("greater", [0, 0, 1, 0]),
        ("greater_equal", [0, 1, 1, 0]),
    ];
    for (name, want) in checks {
        let r = ops::compare(ops::CompareOp::parse(name).unwrap(), &x, &y).map_err(e)?;
        if r.dtype() != DType::Bool {
            return Err(format!("{name} gave {}", r.dtype()));
        }
        same_i(name, &read_i(&r).await?, &want)?;
    }
    let p = Tensor::from_bool(&dev, &[true, true, false, false], &[4]).map_err(e)?;
    let q = Tensor::from_bool(&dev, &[true, false, true, false], &[4]).map_err(e)?;
    same_i("and", &read_i(&ops::logical_and(&p, &q).map_err(e)?).await?, &[1, 0, 0, 0])?;
    same_i("or", &read_i(&ops::logical_or(&p, &q).map_err(e)?).await?, &[1, 1, 1, 0])?;
    same_i("not", &read_i(&ops::logical_not(&p).map_err(e)?).await?, &[0, 0, 1, 1])?;
    Ok(())
}

pub async fn where_and_cast(dev: Device) -> CaseResult {
    let cond = Tensor::from_bool(&dev, &[true, false, true], &[3, 1]).map_err(e)?;
    let a = t(&dev, &[1.0, 2.0], &[2])?;
    let b = t(&dev, &[-1.0], &[])?;
    let r = ops::where_(&cond, &a, &b).map_err(e)?;
    shape_is("where", &r, &[3, 2])?;
    exact("where", &read(&r).await?, &[1.0, 2.0, -1.0, -1.0, 1.0, 2.0])?;
    let f = t(&dev, &[1.7, -1.7, 3e9, -3e9, f32::NAN, 0.0], &[6])?;
    let i = ops::cast(&f, DType::I32).map_err(e)?;
    same_i("f32->i32", &read_i(&i).await?, &[1, -1, i32::MAX, i32::MIN, 0, 0])?;
    let bo = ops::cast(&f, DType::Bool).map_err(e)?;
    same_i("f32->bool", &read_i(&bo).await?, &[1, 1, 1, 1, 1, 0])?;
    exact("i32->f32", &read(&ops::cast(&ti(&dev, &[-3, 0, 16777216], &[3])?, DType::F32).map_err(e)?).await?, &[-3.0, 0.0, 16777216.0])?;
    same_i("bool->i32", &read_i(&ops::cast(&bo, DType::I32).map_err(e)?).await?, &[1, 1, 1, 1, 1, 0])?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reductions

fn reduce_ref(kind: Reduce, data: &[f32], shape: &[usize], axes: &[usize]) -> Vec<f64> {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let out_n: usize = kept.iter().map(|&d| shape[d]).product();
    let mut groups: Vec<Vec<(usize, f64)>> = vec![Vec::new(); out_n];
    let strides = webtensor::shape::strides(shape);
    for (i, &v) in data.iter().enumerate() {
        let coord: Vec<usize> = (0..shape.len()).map(|d| (i / strides[d]) % shape[d]).collect();
        let mut o = 0;
        for &d in &kept {
            o = o * shape[d] + coord[d];
        }
        let mut r = 0;
        for &d in axes {
            r = r * shape[d] + coord[d];
        }
        groups[o].push((r, v as f64));
    }
    groups
        .iter()
        .map(|g| {
            let vals = g.iter().map(|&(_, v)| v);
            match kind {
                Reduce::Sum => vals.sum(),
                Reduce::Mean => vals.sum::<f64>() / g.len() as f64,
                Reduce::Prod => vals.product(),
                Reduce::Max => vals.fold(f64::NEG_INFINITY, f64::max),
                Reduce::Min => vals.fold(f64::INFINITY, f64::min),
                Reduce::LogSumExp => {
                    let m = vals.clone().fold(f64::NEG_INFINITY, f64::max);
                    m + vals.map(|v| (v - m).exp()).sum::<f64>().ln()
                }
                Reduce::ArgMax | Reduce::ArgMin => {
                    let mut best = g[0];
                    for &(r, v) in g {
                        let better = if kind == Reduce::ArgMax { v > best.1 } else { v < best.1 };
                        if better || (v == best.1 && r < best.0) {
                            best = (r, v);
                        }
                    }
                    best.0 as f64
                }
            }
        })
        .collect()
}

pub async fn reductions_hand_values(dev: Device) -> CaseResult {
    let x = t(&dev, &[1.0, 5.0, 3.0, 4.0, 2.0, 6.0], &[2, 3])?;
    exact("sum all", &read(&ops::sum(&x, None, false).map_err(e)?).await?, &[21.0])?;
    let s0 = ops::sum(&x, Some(&[0]), false).map_err(e)?;
    shape_is("sum0", &s0, &[3])?;
    exact("sum0", &read(&s0).await?, &[5.0, 7.0, 9.0])?;
    let s1 = ops::sum(&x, Some(&[-1]), true).map_err(e)?;
    shape_is("sum1 keepdims", &s1, &[2, 1])?;
    exact("sum1", &read(&s1).await?, &[9.0, 12.0])?;
    exact("mean", &read(&ops::mean(&x, Some(&[1]), false).map_err(e)?).await?, &[3.0, 4.0])?;
    exact("max", &read(&ops::max(&x, Some(&[1]), false).map_err(e)?).await?, &[5.0, 6.0])?;
    exact("min", &read(&ops::min(&x, Some(&[0]), false).map_err(e)?).await?, &[1.0, 2.0, 3.0])?;
    same_i("argmax", &read_i(&ops::argmax(&x, 1).map_err(e)?).await?, &[1, 2])?;
    same_i("argmin", &read_i(&ops::argmin(&x, 0).map_err(e)?).await?, &[0, 1, 0])?;
    // ties return the first index, like TF.js
    same_i("argmax tie", &read_i(&ops::argmax(&t(&dev, &[3.0, 7.0, 7.0, 1.0], &[4])?, 0).map_err(e)?).await?, &[1])?;
    // A NaN anywhere in a row or column makes its extremum NaN, along rows (vectors of four and a
    // tail) and across them (a leading axis reduced).
    let nan = f32::NAN;
    let rows = t(&dev, &[1.0, nan, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, -1.0], &[2, 9])?;
    let got = read(&ops::max(&rows, Some(&[1]), false).map_err(e)?).await?;
    if !(got[0].is_nan() && got[1] == 2.0) {
        return Err(format!("max over rows with a NaN: {got:?}"));
    }
    let got = read(&ops::min(&rows, Some(&[1]), false).map_err(e)?).await?;
    if !(got[0].is_nan() && got[1] == -1.0) {
        return Err(format!("min over rows with a NaN: {got:?}"));
    }
    // Over a leading axis of a tensor with an empty axis after it: nothing to compare, no error.
    let empty = ops::max(&t(&dev, &[], &[2, 0, 3])?, Some(&[0]), false).map_err(e)?;
    if empty.shape() != [0, 3] || !read(&empty).await?.is_empty() {
        return Err(format!("max over axis 0 of [2, 0, 3]: shape {:?}", empty.shape()));
    }
    let cols = t(&dev, &[1.0, 5.0, 0.0, 2.0, 7.0, 3.0, nan, 1.0, 9.0, -7.0, 2.0, 4.0, -1.0, 8.0, nan], &[3, 5])?;
    let got = read(&ops::max(&cols, Some(&[0]), false).map_err(e)?).await?;
    if !(got[0] == 3.0 && got[1].is_nan() && got[2] == 1.0 && got[3] == 9.0 && got[4].is_nan()) {
        return Err(format!("max down columns with NaNs: {got:?}"));
    }
    let got = read(&ops::min(&cols, Some(&[0]), false).map_err(e)?).await?;
    if !(got[0] == 1.0 && got[1].is_nan() && got[2] == -1.0 && got[3] == 2.0 && got[4].is_nan()) {
        return Err(format!("min down columns with NaNs: {got:?}"));
    }
    // int sums stay int; bool sums count
    let bools = Tensor::from_bool(&dev, &[true, false, true, true], &[4]).map_err(e)?;
    let cnt = ops::sum(&bools, None, false).map_err(e)?;
    same_i("count", &read_i(&cnt).await?, &[3])?;
    // empty reductions
    let empty = t(&dev, &[], &[0])?;
    exact("sum empty", &read(&ops::sum(&empty, None, false).map_err(e)?).await?, &[0.0])?;
    Ok(())
}

pub async fn reductions_vs_reference(dev: Device) -> CaseResult {
    let mut rng = Rng::new(3);
    let cases: &[(&[usize], &[i64])] = &[
        (&[1000], &[0]),
        (&[7, 300], &[1]),
        (&[300, 7], &[0]),
        (&[4, 5, 6], &[1]),
        (&[4, 5, 6], &[0, 2]),
        (&[3, 4, 5, 6], &[1, 2]),
        (&[2, 3, 4, 5], &[0, 1, 3]),
        (&[6, 5], &[0, 1]),
        // longer than one pass's chunk: reduced in several passes on the GPU
        (&[2, 10000], &[1]),
        (&[9000, 3], &[0]),
    ];
    for (shape, axes) in cases {
        let n: usize = shape.iter().product();
        let data = rng.vec(n, -1.0, 1.0);
        let x = t(&dev, &data, shape)?;
        let axes_u: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
        for kind in [Reduce::Sum, Reduce::Mean, Reduce::Max, Reduce::Min, Reduce::LogSumExp] {
            let r = ops::reduce(kind, &x, Some(axes), false).map_err(e)?;
            let want = reduce_ref(kind, &data, shape, &axes_u);
            close(&format!("{:?} {:?} {:?}", kind, shape, axes), &read(&r).await?, &want, 1e-4, 1e-5)?;
        }
        if axes.len() == 1 {
            for kind in [Reduce::ArgMax, Reduce::ArgMin] {
                let r = ops::arg_reduce(kind, &x, axes[0]).map_err(e)?;
                let want = reduce_ref(kind, &data, shape, &axes_u);
                let got: Vec<f32> = read_i(&r).await?.into_iter().map(|v| v as f32).collect();
                close(&format!("{:?} {:?} {:?}", kind, shape, axes), &got, &want, 0.0, 0.0)?;
            }
        }
    }
    let small = rng.vec(24, 0.5, 1.5);
    let prod = ops::reduce(Reduce::Prod, &t(&dev, &small, &[4, 6])?, Some(&[1]), true).map_err(e)?;
    shape_is("prod", &prod, &[4, 1])?;
    close("prod", &read(&prod).await?, &reduce_ref(Reduce::Prod, &small, &[4, 6], &[1]), 1e-5, 0.0)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Matmul

fn matmul_ref(a: &[f32], b: &[f32], batch: usize, m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
    let mut c = vec![0.0f64; batch * m * n];
    for z in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for kk in 0..k {
                    let av = if ta { a[z * m * k + kk * m + i] } else { a[z * m * k + i * k + kk] };
                    let bv = if tb { b[z * k * n + j * k + kk] } else { b[z * k * n + kk * n + j] };
                    s += av as f64 * bv as f64;
                }
                c[z * m * n + i * n + j] = s;
            }
        }
    }
    c
}

pub async fn matmul_hand_values(dev: Device) -> CaseResult {
    let a = t(&dev, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    let b = t(&dev, &[5.0, 6.0, 7.0, 8.0], &[2, 2])?;
    exact("2x2", &read(&ops::matmul(&a, &b, false, false).map_err(e)?).await?, &[19.0, 22.0, 43.0, 50.0])?;
    exact("A^T B", &read(&ops::matmul(&a, &b, true, false).map_err(e)?).await?, &[26.0, 30.0, 38.0, 44.0])?;
    exact("A B^T", &read(&ops::matmul(&a, &b, false, true).map_err(e)?).await?, &[17.0, 23.0, 39.0, 53.0])?;
    let v = t(&dev, &[1.0, 1.0, 1.0], &[1, 3])?;
    let w = t(&dev, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2])?;
    exact("1x3 3x2", &read(&ops::matmul(&v, &w, false, false).map_err(e)?).await?, &[9.0, 12.0])?;
    Ok(())
}

/// Weights kept packed for the CPU GEMM in wasm (src/ops/packed_weights.rs): products that read a
/// marked weight again give bit for bit what an unmarked copy gives, in each layout (either side,
/// transposed, ragged edges, several blocks of k, broadcast over a batch, a convolution's
/// filters); in wasm on the CPU the pack exists after the second product and is gone with the
/// weight; a write is seen by the next product.
pub async fn weights_kept_packed(dev: Device) -> CaseResult {
    let mut rng = Rng::new(12);
    let packs_here = matches!(dev, Device::Cpu) && cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
    let start = ops::packed_weight_bytes();
    // (batch of x, m, k, n, transpose A, transpose B, the weight is A)
    let cases = [
        (1, 5, 300, 37, false, false, false),
        (1, 37, 300, 5, false, false, true),
        (1, 9, 70, 301, true, true, false),
        (1, 6, 513, 19, false, true, true),
        (3, 7, 40, 12, false, false, false),
        (1, 130, 600, 70, false, false, false),
    ];
    for (batch, m, k, n, ta, tb, weight_is_a) in cases {
        let what = format!("{batch}x{m}x{k}x{n} ta={ta} tb={tb} weight is {}", if weight_is_a { "A" } else { "B" });
        let (w_shape, x_shape) = match weight_is_a {
            true => (if ta { vec![k, m] } else { vec![m, k] }, if tb { vec![n, k] } else { vec![k, n] }),
            false => (if tb { vec![n, k] } else { vec![k, n] }, if ta { vec![batch, k, m] } else { vec![batch, m, k] }),
        };
        let wv = rng.vec(w_shape.iter().product(), -1.0, 1.0);
        let xv = rng.vec(x_shape.iter().product(), -1.0, 1.0);
        let (weight, plain, x) = (t(&dev, &wv, &w_shape)?, t(&dev, &wv, &w_shape)?, t(&dev, &xv, &x_shape)?);
        weight.mark_weight();
        let product = |w: &Tensor| if weight_is_a { ops::matmul(w, &x, ta, tb) } else { ops::matmul(&x, w, ta, tb) };
        let want = read(&product(&plain).map_err(e)?).await?;
        for call in 0..3 {
            exact(&format!("{what}, product {call}"), &read(&product(&weight).map_err(e)?).await?, &want)?;
        }
        let packed = ops::packed_weight_bytes() - start;
        if packs_here != (packed > 0) {
            return Err(format!("{what}: {packed} bytes packed after three products"));
        }
        let wv2: Vec<f32> = wv.iter().map(|v| v * -0.5 + 0.25).collect();
        let fresh = t(&dev, &wv2, &w_shape)?;
        weight.assign(&fresh).map_err(e)?;
        exact(&format!("{what}, after a write"), &read(&product(&weight).map_err(e)?).await?, &read(&product(&fresh).map_err(e)?).await?)?;
        exact(&format!("{what}, after a write, again"), &read(&product(&weight).map_err(e)?).await?, &read(&product(&fresh).map_err(e)?).await?)?;
        drop(weight);
        if ops::packed_weight_bytes() != start {
            return Err(format!("{what}: the pack outlived its weight"));
        }
    }
    // A convolution's filters, lowered to columns (3x3 with few channels), read in place (1x1),
    // and in Winograd's transform space (3x3, 8 channels or more).
    for (kh, c, m) in [(3, 5, 33), (1, 16, 9), (3, 16, 9)] {
        let (xv, fv) = (rng.vec(2 * c * 9 * 11, -1.0, 1.0), rng.vec(m * c * kh * kh, -1.0, 1.0));
        let x = t(&dev, &xv, &[2, c, 9, 11])?;
        let (filters, plain) = (t(&dev, &fv, &[m, c, kh, kh])?, t(&dev, &fv, &[m, c, kh, kh])?);
        filters.mark_weight();
        let win = ops::ConvWindow { strides: (1, 1), dilations: (1, 1), padding: ops::Padding::Same, group: 1 };
        let want = read(&ops::conv2d_nchw(&x, &plain, None, win, None).map_err(e)?).await?;
        for call in 0..3 {
            exact(&format!("conv {kh}x{kh}, product {call}"), &read(&ops::conv2d_nchw(&x, &filters, None, win, None).map_err(e)?).await?, &want)?;
        }
        if packs_here != (ops::packed_weight_bytes() > start) {
            return Err(format!("conv {kh}x{kh}: {} bytes packed after three convolutions", ops::packed_weight_bytes() - start));
        }
    }
    Ok(())
}

pub async fn matmul_vs_reference(dev: Device) -> CaseResult {
    let mut rng = Rng::new(4);
    // skinny shapes take the small kernel; long k with few outputs also splits k (2000 -> 4 parts);
    // the last shape spans several k and n blocks of the wasm CPU kernel
    let sizes = [(1, 1, 1), (7, 13, 5), (64, 64, 64), (65, 17, 63), (129, 257, 65), (3, 100, 1), (2, 2000, 3), (40, 600, 5), (300, 9, 8), (50, 300, 530)];
    for (m, k, n) in sizes {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = rng.vec(m * k, -1.0, 1.0);
            let b = rng.vec(k * n, -1.0, 1.0);
            let sa = if ta { [k, m] } else { [m, k] };
            let sb = if tb { [n, k] } else { [k, n] };
            let r = ops::matmul(&t(&dev, &a, &sa)?, &t(&dev, &b, &sb)?, ta, tb).map_err(e)?;
            shape_is("matmul", &r, &[m, n])?;
            close(&format!("matmul {m}x{k}x{n} ta={ta} tb={tb}"), &read(&r).await?, &matmul_ref(&a, &b, 1, m, k, n, ta, tb), 1e-4, 1e-4)?;
        }
    }
    // every large-shape kernel, whichever this adapter picks by default; the vec4 one on shapes
    // it reads as vec4 in each layout (and with ragged edges), and on one it must hand back
    for kernel in [ops::MatmulKernel::Tiled, ops::MatmulKernel::Direct, ops::MatmulKernel::Vec4] {
        for (m, k, n) in [(64, 64, 64), (132, 256, 68), (100, 36, 44), (129, 257, 65), (70, 5, 33)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = rng.vec(m * k, -1.0, 1.0);
                let b = rng.vec(k * n, -1.0, 1.0);
                let sa = if ta { [k, m] } else { [m, k] };
                let sb = if tb { [n, k] } else { [k, n] };
                let r = ops::matmul_with(&t(&dev, &a, &sa)?, &t(&dev, &b, &sb)?, ta, tb, kernel).map_err(e)?;
                close(&format!("{kernel:?} matmul {m}x{k}x{n} ta={ta} tb={tb}"), &read(&r).await?, &matmul_ref(&a, &b, 1, m, k, n, ta, tb), 1e-4, 1e-4)?;
            }
        }
    }
    // skinny and split-k, batched
    let (bz, m, k, n) = (2, 3, 1500, 4);
    let a = rng.vec(bz * m * k, -1.0, 1.0);
    let b = rng.vec(bz * k * n, -1.0, 1.0);
    let r = ops::matmul(&t(&dev, &a, &[bz, m, k])?, &t(&dev, &b, &[bz, k, n])?, false, false).map_err(e)?;
    close("batched split-k", &read(&r).await?, &matmul_ref(&a, &b, bz, m, k, n, false, false), 1e-4, 1e-4)?;
    let (bz, m, k, n) = (3, 9, 17, 11);
    let a = rng.vec(bz * m * k, -1.0, 1.0);
    let b = rng.vec(bz * k * n, -1.0, 1.0);
    let r = ops::matmul(&t(&dev, &a, &[bz, m, k])?, &t(&dev, &b, &[bz, k, n])?, false, false).map_err(e)?;
    shape_is("batched", &r, &[bz, m, n])?;
    close("batched", &read(&r).await?, &matmul_ref(&a, &b, bz, m, k, n, false, false), 1e-4, 1e-4)?;
    // broadcast batch: [2,1,m,k] x [3,k,n] -> [2,3,m,n]
    let a = rng.vec(2 * m * k, -1.0, 1.0);
    let b = rng.vec(3 * k * n, -1.0, 1.0);
    let r = ops::matmul(&t(&dev, &a, &[2, 1, m, k])?, &t(&dev, &b, &[3, k, n])?, false, false).map_err(e)?;
    shape_is("broadcast batch", &r, &[2, 3, m, n])?;
    let got = read(&r).await?;
    for i in 0..2 {
        for j in 0..3 {
            let want = matmul_ref(&a[i * m * k..(i + 1) * m * k], &b[j * k * n..(j + 1) * k * n], 1, m, k, n, false, false);
            let at = (i * 3 + j) * m * n;
            close(&format!("broadcast batch [{i},{j}]"), &got[at..at + m * n], &want, 1e-4, 1e-4)?;
        }
    }
    // k = 0 gives zeros
    let z = ops::matmul(&t(&dev, &[], &[2, 0])?, &t(&dev, &[], &[0, 3])?, false, false).map_err(e)?;
    exact("k=0", &read(&z).await?, &[0.0; 6])?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Layout ops

pub async fn layout_ops(dev: Device) -> CaseResult {
    let x = t(&dev, &(0..24).map(|v| v as f32).collect::<Vec<_>>(), &[2, 3, 4])?;
    let r = ops::reshape(&x, &[4, -1]).map_err(e)?;
    shape_is("reshape", &r, &[4, 6])?;
    if !r.shares_storage(&x) {
        return Err("reshape copied its input".into());
    }
    let tr = ops::transpose(&t(&dev, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?, None).map_err(e)?;
    shape_is("transpose", &tr, &[3, 2])?;
    exact("transpose", &read(&tr).await?, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0])?;
    let p = ops::transpose(&x, Some(&[2, 0, 1])).map_err(e)?;
    shape_is("permute", &p, &[4, 2, 3])?;
    let got = read(&p).await?;
    for c in 0..4 {
        for a in 0..2 {
            for b in 0..3 {
                let want = (a * 12 + b * 4 + c) as f32;
                if got[c * 6 + a * 3 + b] != want {
                    return Err(format!("permute [{c},{a},{b}] is {}, expected {want}", got[c * 6 + a * 3 + b]));
                }
            }
        }
    }
    let s = ops::slice(&x, &[1, 1, 0], &[1, 2, -1]).map_err(e)?;
    shape_is("slice", &s, &[1, 2, 4])?;
    exact("slice", &read(&s).await?, &[16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0])?;
    let a = t(&dev, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    let b = t(&dev, &[5.0, 6.0], &[2, 1])?;
    let c = ops::concat(&[&a, &b], 1).map_err(e)?;
    shape_is("concat", &c, &[2, 3])?;
    exact("concat", &read(&c).await?, &[1.0, 2.0, 5.0, 3.0, 4.0, 6.0])?;
    let c0 = ops::concat(&[&a, &t(&dev, &[7.0, 8.0], &[1, 2])?], 0).map_err(e)?;
    exact("concat0", &read(&c0).await?, &[1.0, 2.0, 3.0, 4.0, 7.0, 8.0])?;
    let st = ops::stack(&[&t(&dev, &[1.0, 2.0], &[2])?, &t(&dev, &[3.0, 4.0], &[2])?], 1).map_err(e)?;
    shape_is("stack", &st, &[2, 2])?;
    exact("stack", &read(&st).await?, &[1.0, 3.0, 2.0, 4.0])?;
    let bt = ops::broadcast_to(&t(&dev, &[1.0, 2.0], &[2, 1])?, &[2, 2, 3]).map_err(e)?;
    exact("broadcast_to", &read(&bt).await?, &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0])?;
    // assign overwrites in place: views sharing the storage see it
    let var = t(&dev, &[0.0; 4], &[2, 2])?;
    let view = ops::reshape(&var, &[4]).map_err(e)?;
    var.assign(&t(&dev, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?).map_err(e)?;
    exact("assign", &read(&view).await?, &[1.0, 2.0, 3.0, 4.0])?;
    if var.assign(&t(&dev, &[1.0; 3], &[3])?).is_ok() {
        return Err("assign accepted a tensor of another shape".into());
    }
    // int data moves through layout ops unchanged
    let iv = ops::transpose(&ti(&dev, &[1, -2, 3, -4], &[2, 2])?, None).map_err(e)?;
    same_i("int transpose", &read_i(&iv).await?, &[1, 3, -2, -4])?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Creation ops

pub async fn fill_and_random(dev: Device) -> CaseResult {
    exact("zeros", &read(&ops::zeros(&dev, &[2, 2], DType::F32).map_err(e)?).await?, &[0.0; 4])?;
    exact("ones", &read(&ops::ones(&dev, &[3], DType::F32).map_err(e)?).await?, &[1.0; 3])?;
    same_i("fill int", &read_i(&ops::fill(&dev, &[2], -7.0, DType::I32).map_err(e)?).await?, &[-7, -7])?;
    let n = 20000;
    let u = read(&ops::random_uniform(&dev, &[n], -2.0, 3.0, Some(42)).map_err(e)?).await?;
    if u.iter().any(|&v| !(-2.0..3.0).contains(&v)) {
        return Err("uniform value out of range".into());
    }
    let mean = u.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    if (mean - 0.5).abs() > 0.05 {
        return Err(format!("uniform mean {mean}, expected 0.5"));
    }
    let g = read(&ops::random_normal(&dev, &[n], 1.0, 2.0, Some(7)).map_err(e)?).await?;
    let gm = g.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let gs = (g.iter().map(|&v| (v as f64 - gm).powi(2)).sum::<f64>() / n as f64).sqrt();
    if (gm - 1.0).abs() > 0.06 || (gs - 2.0).abs() > 0.06 {
        return Err(format!("normal mean {gm} std {gs}, expected 1 and 2"));
    }
    // Same seed, same numbers; the CPU backend draws the very same ones.
    let again = read(&ops::random_uniform(&dev, &[n], -2.0, 3.0, Some(42)).map_err(e)?).await?;
    if again != u {
        return Err("seeded uniform is not reproducible".into());
    }
    let cpu = read(&ops::random_uniform(&Device::Cpu, &[n], -2.0, 3.0, Some(42)).map_err(e)?).await?;
    exact("uniform cpu == device", &u, &cpu)?;
    let cpu_g = read(&ops::random_normal(&Device::Cpu, &[n], 1.0, 2.0, Some(7)).map_err(e)?).await?;
    let cpu_g: Vec<f64> = cpu_g.iter().map(|&v| v as f64).collect();
    // Same bits drawn; Box-Muller's cos is only 2^-11-accurate in WGSL, times |z| <= ~5.7.
    close("normal cpu ~ device", &g, &cpu_g, 1e-4, 4e-3)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Cross-backend, sizes, errors

/// A small composite expression evaluated on the device and on the CPU backend must agree.
pub async fn agrees_with_cpu_backend(dev: Device) -> CaseResult {
    let mut rng = Rng::new(5);
    let xa = rng.vec(8 * 33, -1.0, 1.0);
    let wa = rng.vec(33 * 10, -0.5, 0.5);
    let ba = rng.vec(10, -0.1, 0.1);
    let run = |d: Device| {
        let (xa, wa, ba) = (xa.clone(), wa.clone(), ba.clone());
        async move {
            let x = t(&d, &xa, &[8, 33])?;
            let w = t(&d, &wa, &[33, 10])?;
            let b = t(&d, &ba, &[10])?;
            let h = ops::tanh(&ops::add(&ops::matmul(&x, &w, false, false).map_err(e)?, &b).map_err(e)?).map_err(e)?;
            let m = ops::max(&h, Some(&[1]), true).map_err(e)?;
            let z = ops::exp(&ops::sub(&h, &m).map_err(e)?).map_err(e)?;
            let sm = ops::div(&z, &ops::sum(&z, Some(&[1]), true).map_err(e)?).map_err(e)?;
            let col = ops::mean(&ops::transpose(&sm, None).map_err(e)?, Some(&[1]), false).map_err(e)?;
            read(&col).await
        }
    };
    let here = run(dev).await?;
    let cpu: Vec<f64> = run(Device::Cpu).await?.into_iter().map(|v| v as f64).collect();
    close("softmax(tanh(xW+b)) mean", &here, &cpu, 1e-5, 1e-6)
}

/// More than 65535 workgroups of 256 elements: the dispatch must split over two grid dimensions.
pub async fn large_elementwise(dev: Device) -> CaseResult {
    let n = 65535 * 256 + 4099;
    let x = ops::fill(&dev, &[n], 1.5, DType::F32).map_err(e)?;
    let y = ops::mul(&x, &t(&dev, &[2.0], &[])?).map_err(e)?;
    let s = read(&ops::sum(&y, None, false).map_err(e)?).await?;
    close("sum of large", &s, &[3.0 * n as f64], 1e-4, 0.0)?;
    let v = read(&y).await?;
    if v[n - 1] != 3.0 || v[0] != 3.0 {
        return Err(format!("large mul: ends are {} and {}", v[0], v[n - 1]));
    }
    Ok(())
}

pub async fn empty_tensors(dev: Device) -> CaseResult {
    let a = t(&dev, &[], &[0, 3])?;
    let b = t(&dev, &[1.0, 2.0, 3.0], &[3])?;
    let r = ops::add(&a, &b).map_err(e)?;
    shape_is("empty add", &r, &[0, 3])?;
    if !read(&r).await?.is_empty() {
        return Err("empty add returned values".into());
    }
    let s = ops::sum(&a, Some(&[0]), false).map_err(e)?;
    exact("sum over empty axis", &read(&s).await?, &[0.0, 0.0, 0.0])?;
    Ok(())
}

/// Every bad call returns an error that names the op and the shapes, and the engine keeps working.
pub async fn bad_input_errors(dev: Device) -> CaseResult {
    let a = t(&dev, &[1.0; 6], &[2, 3])?;
    let b = t(&dev, &[1.0; 4], &[4])?;
    let expect = |what: &str, r: webtensor::Result<Tensor>, needles: &[&str]| -> CaseResult {
        match r {
            Ok(t) => Err(format!("{what}: expected an error, got a tensor of shape {:?}", t.shape())),
            Err(err) => {
                let msg = err.to_string();
                for n in needles {
                    if !msg.contains(n) {
                        return Err(format!("{what}: message {msg:?} does not mention {n:?}"));
                    }
                }
                Ok(())
            }
        }
    };
    expect("add mismatch", ops::add(&a, &b), &["add", "[2, 3]", "[4]"])?;
    expect("matmul inner", ops::matmul(&a, &a, false, false), &["matmul", "[2, 3]"])?;
    expect("matmul rank", ops::matmul(&b, &a, false, false), &["matmul", "[4]"])?;
    expect("sum axis", ops::sum(&a, Some(&[2]), false), &["sum", "axis 2", "rank 2"])?;
    expect("argmax axis", ops::argmax(&a, -3), &["argmax", "axis -3"])?;
    expect("transpose perm", ops::transpose(&a, Some(&[0, 0])), &["transpose", "[0, 0]"])?;
    expect("slice bounds", ops::slice(&a, &[1, 2], &[2, 1]), &["slice", "[2, 3]"])?;
    expect("reshape", ops::reshape(&a, &[4, -1]), &["reshape", "[2, 3]"])?;
    expect("concat", ops::concat(&[&a, &b], 0), &["concat", "[2, 3]", "[4]"])?;
    expect("where", ops::where_(&b, &a, &a), &["where", "[4]"])?;
    expect("tensor data", Tensor::from_f32(&dev, &[1.0, 2.0], &[3]), &["tensor", "[3]"])?;
    expect("too big", Tensor::from_f32(&dev, &[], &[1 << 31, 1 << 31]), &["tensor", "too many elements"])?;
    expect("rank 9", ops::zeros(&dev, &[1; 9], DType::F32), &["rank 9"])?;
    expect("clip", ops::clip(&a, 2.0, 1.0), &["clip"])?;
    expect("pad overflow", ops::pad(&a, &[(usize::MAX, 1), (0, 0)], 0.0), &["pad", "too large"])?;
    expect("conv2d rank", ops::conv2d(&a, &a, (1, 1), ops::Padding::Same, (1, 1)), &["conv2d"])?;
    expect("conv2d channels", ops::conv2d(&t(&dev, &[0.0; 8], &[1, 2, 2, 2])?, &t(&dev, &[0.0; 9], &[3, 3, 1, 1])?, (1, 1), ops::Padding::Same, (1, 1)), &["conv2d", "channels"])?;
    expect("max_pool window", ops::max_pool(&t(&dev, &[0.0; 4], &[1, 2, 2, 1])?, (3, 3), (1, 1), ops::Padding::Valid), &["max_pool"])?;
    expect("gather float indices", ops::gather(&a, &a, 0), &["gather", "int32"])?;
    expect("one_hot depth", ops::one_hot(&ti(&dev, &[0], &[1])?, 0), &["one_hot", "depth"])?;
    expect("loss shapes", ops::mean_squared_error(&a, &b), &["meanSquaredError", "[2, 3]", "[4]"])?;
    expect("dropout rate", ops::dropout::dropout(&a, 1.5, None), &["dropout", "rate"])?;
    if let Device::Gpu(_) = dev {
        let c = t(&Device::Cpu, &[1.0; 6], &[2, 3])?;
        expect("mixed devices", ops::add(&a, &c), &["add", "different backends"])?;
    }
    match a.to_vec_i32().await {
        Err(err) if err.to_string().contains("float32") => {}
        other => return Err(format!("to_vec_i32 of float32: {other:?}")),
    }
    // Still working, and the inputs are intact.
    exact("after errors", &read(&ops::add(&a, &a).map_err(e)?).await?, &[2.0; 6])?;
    exact("inputs intact", &read(&b).await?, &[1.0; 4])?;
    Ok(())
}

/// Dropped tensors return their buffers to the pool; the next allocations reuse them.
pub async fn pool_reuses_buffers(dev: Device) -> CaseResult {
    let Device::Gpu(ctx) = &dev else { return Ok(()) };
    let x = t(&dev, &[1.0; 1000], &[1000])?;
    for _ in 0..3 {
        let y = ops::exp(&ops::mul(&x, &x).map_err(e)?).map_err(e)?;
        read(&y).await?;
    }
    let before = ctx.pool_stats();
    for _ in 0..20 {
        let y = ops::exp(&ops::mul(&x, &x).map_err(e)?).map_err(e)?;
        read(&y).await?;
    }
    let after = ctx.pool_stats();
    if after.created_buffers != before.created_buffers || after.live_buffers != before.live_buffers {
        return Err(format!("pool grew: {before:?} -> {after:?}"));
    }
    Ok(())
}

/// Needs a device of its own (it destroys it): an allocation over the adapter's limits is a clear
/// error; after the device is destroyed every op and read fails clearly (no hang, no panic), and a
/// new device works while the old device's tensors keep failing clearly.
pub async fn device_loss_is_reported(dev: Device) -> CaseResult {
    let Device::Gpu(ctx) = &dev else { return Err("device_loss_is_reported needs a GPU device".into()) };
    let max = ctx.max_tensor_bytes();
    let elements = (max / 4 + 1) as usize;
    match ops::zeros(&dev, &[elements], DType::F32) {
        Ok(_) => return Err(format!("zeros of {elements} elements ({max} byte limit) did not fail")),
        Err(err) => {
            let msg = err.to_string();
            if !msg.contains("fill") || !(msg.contains("limit") || msg.contains("too many elements")) {
                return Err(format!("oversize allocation error unclear: {msg}"));
            }
        }
    }
    let a = t(&dev, &[1.0, 2.0], &[2])?;
    let b = ops::exp(&a).map_err(e)?;
    close("before loss", &read(&b).await?, &[1f64.exp(), 2f64.exp()], 1e-5, 0.0)?;
    ctx.destroy();
    let lost = |what: &str, r: Result<String, String>| match r {
        Ok(_) => Err(format!("{what} succeeded on a destroyed device")),
        Err(m) if m.contains("lost") => Ok(()),
        Err(m) => Err(format!("{what}: error does not say the device was lost: {m}")),
    };
    lost("exp", ops::exp(&a).map(|_| String::new()).map_err(e))?;
    lost("read", read(&b).await.map(|_| String::new()))?;
    lost("upload", t(&dev, &[1.0], &[1]).map(|_| String::new()))?;
    let fresh = Device::gpu().await.map_err(e)?;
    let c = t(&fresh, &[3.0], &[1])?;
    close("new device", &read(&ops::exp(&c).map_err(e)?).await?, &[3f64.exp()], 1e-5, 0.0)?;
    match ops::add(&a, &c) {
        Ok(_) => Err("mixing a lost device's tensor with a new one succeeded".into()),
        Err(m) if m.to_string().contains("different GPU devices") => Ok(()),
        Err(m) => Err(format!("mixing devices: unclear error {m}")),
    }
}

/// Needs a fresh device (nothing compiled yet): a warm-up trace notes the kernels a computation
/// needs without running anything, compiles them ahead, and the real run then compiles nothing
/// more and computes the right values.
pub async fn warmup_compiles_ahead(dev: Device) -> CaseResult {
    let Device::Gpu(ctx) = &dev else { return Err("warmup_compiles_ahead needs a GPU device".into()) };
    // Ends in a reduction, then an elementwise result left pending (it runs only when read).
    let run = |dev: &Device| -> webtensor::Result<Tensor> {
        let a = Tensor::from_f32(dev, &[1.0, -2.0, 3.0, 4.0], &[2, 2])?;
        let y = ops::relu(&ops::matmul(&a, &a, false, true)?)?;
        let s = ops::sum(&ops::exp(&y)?, Some(&[1]), false)?;
        ops::log(&s)
    };
    let before = ctx.kernel_count();
    ctx.start_collecting_kernels();
    let traced = run(&dev).map_err(e)?;
    if ctx.kernel_count() != before {
        return Err("the trace compiled kernels on the spot".into());
    }
    if read(&t(&dev, &[1.0], &[1])?).await.is_ok() {
        return Err("reading inside a trace should fail".into());
    }
    // What the trace left pending runs too (model.warmup does this), so its kernel is noted.
    webtensor::fusion::realize_all().map_err(e)?;
    drop(traced);
    let noted = ctx.compile_collected().await.map_err(e)?;
    // the matmul, the sum with relu and exp fused into it, and the log
    if noted != 3 || ctx.kernel_count() != before + noted {
        return Err(format!("noted {noted} kernels, cache {before} -> {}", ctx.kernel_count()));
    }
    let y = run(&dev).map_err(e)?;
    if ctx.kernel_count() != before + noted {
        return Err(format!("the real run compiled {} more kernels", ctx.kernel_count() - before - noted));
    }
    // relu([[1,-2],[3,4]] @ its transpose) = [[5,0],[0,25]]
    close("after warm-up", &read(&y).await?, &[(5f64.exp() + 1.0).ln(), (1.0 + 25f64.exp()).ln()], 1e-5, 0.0)?;
    if ctx.kernel_count() != before + noted {
        return Err(format!("reading the pending result compiled {} more kernels", ctx.kernel_count() - before - noted));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Autograd

type Build = dyn Fn(&[Tensor]) -> webtensor::Result<Tensor>;

/// Gradient check: the analytic gradient of loss = sum(f(xs) * w) on `dev` against central
/// differences of the CPU backend's forward, with the loss summed in f64 on the host.
pub async fn grad_check(dev: &Device, what: &str, inputs: &[(Vec<f32>, Vec<usize>)], f: &Build) -> CaseResult {
    grad_check_with(dev, what, inputs, f, false).await
}

/// `grad_check`; with `constant_ok`, a result that does not depend on an input along recorded
/// paths (a second derivative that is zero) counts as a zero gradient, which the differences
/// must then confirm.
async fn grad_check_with(dev: &Device, what: &str, inputs: &[(Vec<f32>, Vec<usize>)], f: &Build, constant_ok: bool) -> CaseResult {
    const EPS: f32 = 1e-2;
    let leaves: Vec<Tensor> = inputs.iter().map(|(d, s)| t(dev, d, s)).collect::<Result<_, _>>()?;
    for l in &leaves {
        l.set_requires_grad(true).map_err(e)?;
    }
    let y = f(&leaves).map_err(|err| format!("{what}: {err}"))?;
    let mut rng = Rng::new(99);
    let w = rng.vec(y.numel(), 0.5, 1.5);
    let loss = ops::sum(&ops::mul(&y, &t(dev, &w, y.shape())?).map_err(e)?, None, false).map_err(e)?;
    if loss.tracks_grad() || !constant_ok {
        webtensor::autograd::backward(&loss).map_err(|err| format!("{what}: {err}"))?;
    }
    let cpu_loss = |xs: Vec<(Vec<f32>, Vec<usize>)>| {
        let w = w.clone();
        async move {
            let ts: Vec<Tensor> = xs.iter().map(|(d, s)| t(&Device::Cpu, d, s)).collect::<Result<_, _>>()?;
            let y = webtensor::autograd::no_grad(|| f(&ts)).map_err(e)?;
            let v = read(&y).await?;
            Ok::<f64, String>(v.iter().zip(&w).map(|(&a, &b)| a as f64 * b as f64).sum())
        }
    };
    for (i, leaf) in leaves.iter().enumerate() {
        let got = match leaf.grad() {
            Some(g) => read(&g).await?,
            None if constant_ok => vec![0.0; inputs[i].0.len()],
            None => return Err(format!("{what}: input {i} got no gradient")),
        };
        let mut want = Vec::with_capacity(inputs[i].0.len());
        for j in 0..inputs[i].0.len() {
            let mut plus = inputs.to_vec();
            plus[i].0[j] += EPS;
            let mut minus = inputs.to_vec();
            minus[i].0[j] -= EPS;
            want.push((cpu_loss(plus).await? - cpu_loss(minus).await?) / (2.0 * EPS as f64));
        }
        close(&format!("{what}: d/dx{i}"), &got, &want, 2e-2, 2e-3)?;
    }
    Ok(())
}

/// d/d xs[i] of sum(f(xs) * w) (w fixed, 0.5 to 1.4), itself a differentiable function of xs:
/// the backward pass is recorded.
fn first_grad(xs: &[Tensor], f: &Build, i: usize) -> webtensor::Result<Tensor> {
    webtensor::autograd::enable_grad(|| {
        let targets = xs.iter().map(webtensor::autograd::target).collect::<webtensor::Result<Vec<_>>>()?;
        let y = f(&targets)?;
        let w: Vec<f32> = (0..y.numel()).map(|j| 0.5 + (j * 7 % 10) as f32 / 10.0).collect();
        let loss = ops::sum(&ops::mul(&y, &Tensor::from_f32(y.device(), &w, y.shape())?)?, None, false)?;
        let g = webtensor::autograd::grads_of(&loss, &targets, None, true)?;
        match &g[i] {
            Some(g) => Ok(g.clone()),
            None => ops::zeros(xs[i].device(), xs[i].shape(), webtensor::DType::F32),
        }
    })
}

/// Gradients of gradients (a recorded backward pass) against central differences of the first
/// gradient: every unary and binary rule (replayed as recorded ops), matmul, reductions,
/// softmax, the fused cross-entropy, layout ops, where, conv2d, a small MLP's Hessian-vector
/// product; a third derivative exactly; and a fused-kernel gradient refused by name.
pub async fn second_order_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(23);
    let second = |what: String, inputs: Vec<(Vec<f32>, Vec<usize>)>, f: Rc<Build>, i: usize| {
        let dev = dev.clone();
        async move { grad_check_with(&dev, &what, &inputs, &move |xs| first_grad(xs, &*f, i), true).await }
    };
    for &op in ops::UnaryOp::ALL {
        if op.def().grad.is_none() {
            continue;
        }
        let (data, alpha, beta) = unary_check_input(op, &mut rng);
        second(format!("d2 {}", op.name()), vec![(data, vec![2, 3])], Rc::new(move |x: &[Tensor]| ops::unary(op, &x[0], alpha, beta)), 0).await?;
    }
    for &op in ops::BinaryOp::ALL {
        if op.def().grad.is_none() {
            continue;
        }
        let (a, b) = match op.name() {
            "pow" => (rng.vec(6, 0.5, 2.0), rng.vec(3, 0.5, 2.5)),
            "mod" => (rng.vec(6, 0.1, 0.9), rng.vec(3, 1.5, 2.5)),
            "div" => (away_from_zero(&mut rng, 6, 0.3, 2.0), away_from_zero(&mut rng, 3, 0.5, 2.0)),
            // apart by more than the differences' step
            "maximum" | "minimum" => (vec![0.1, 0.9, -0.5, 1.2, -1.0, 0.4], vec![0.5, -0.2, 0.8]),
            _ => (away_from_zero(&mut rng, 6, 0.2, 1.5), away_from_zero(&mut rng, 3, 0.2, 1.5)),
        };
        let f: Rc<Build> = Rc::new(move |x: &[Tensor]| ops::binary(op, &x[0], &x[1]));
        for i in 0..2 {
            second(format!("d2 {} (d/d input {i} first)", op.name()), vec![(a.clone(), vec![2, 3]), (b.clone(), vec![3])], f.clone(), i).await?;
        }
    }
    let composites: Vec<(&str, Vec<(Vec<f32>, Vec<usize>)>, Rc<Build>)> = vec![
        ("matmul then tanh", vec![(rng.vec(6, -1.0, 1.0), vec![2, 3]), (rng.vec(12, -1.0, 1.0), vec![3, 4])], Rc::new(|x: &[Tensor]| ops::tanh(&ops::matmul(&x[0], &x[1], false, false)?))),
        ("softmax", vec![(rng.vec(8, -2.0, 2.0), vec![2, 4])], Rc::new(|x: &[Tensor]| ops::softmax(&x[0], -1))),
        ("log_softmax", vec![(rng.vec(8, -2.0, 2.0), vec![2, 4])], Rc::new(|x: &[Tensor]| ops::log_softmax(&x[0], -1))),
        ("mean and max over an axis, squared", vec![(rng.vec(12, -2.0, 2.0), vec![3, 4])], Rc::new(|x: &[Tensor]| {
            let m = ops::mean(&x[0], Some(&[1]), true)?;
            ops::square(&ops::add(&ops::max(&x[0], Some(&[1]), true)?, &m)?)
        })),
        ("softmax cross-entropy", vec![(rng.vec(3 * 5, -2.0, 2.0), vec![3, 5])], Rc::new(|x: &[Tensor]| {
            let labels = Tensor::from_i32(x[0].device(), &[1, 4, 0], &[3])?;
            ops::sparse_softmax_cross_entropy(&labels, &x[0])
        })),
        ("transpose, slice, concat, where", vec![(away_from_zero(&mut rng, 6, 0.2, 1.5), vec![2, 3])], Rc::new(|x: &[Tensor]| {
            let t = ops::transpose(&x[0], None)?;
            let both = ops::concat(&[&t, &ops::slice(&t, &[1, 0], &[2, 2])?], 0)?;
            let cube = ops::mul(&both, &ops::square(&both)?)?;
            ops::where_(&ops::greater(&both, &ops::zeros(both.device(), &[], webtensor::DType::F32)?)?, &cube, &ops::sin(&both)?)
        })),
        ("conv2d then square", vec![(rng.vec(2 * 4 * 4 * 2, -1.0, 1.0), vec![2, 4, 4, 2]), (rng.vec(3 * 3 * 2 * 3, -0.5, 0.5), vec![3, 3, 2, 3])], Rc::new(|x: &[Tensor]| {
            ops::square(&ops::conv2d(&x[0], &x[1], (1, 1), ops::Padding::Same, (1, 1))?)
        })),
        ("MLP with tanh (Hessian-vector product)", vec![(rng.vec(2 * 3, -1.0, 1.0), vec![2, 3]), (rng.vec(3 * 4, -1.0, 1.0), vec![3, 4]), (rng.vec(4, -0.5, 0.5), vec![4])], Rc::new(|x: &[Tensor]| {
            let h = ops::tanh(&ops::add(&ops::matmul(&x[0], &x[1], false, false)?, &x[2])?)?;
            ops::mean(&ops::square(&h)?, Some(&[1]), false)
        })),
    ];
    for (what, inputs, f) in composites {
        for i in 0..inputs.len() {
            second(format!("d2 {what} (d/d input {i} first)"), inputs.clone(), f.clone(), i).await?;
        }
    }
    // d3/dx3 of x^3 = 6, through two recorded backward passes.
    let x = t(&dev, &[0.5, -2.0], &[2])?;
    x.set_requires_grad(true).map_err(e)?;
    let cube: Rc<Build> = Rc::new(|x: &[Tensor]| ops::mul(&x[0], &ops::square(&x[0])?));
    let d2 = first_grad(&[x.clone()], &move |xs: &[Tensor]| first_grad(xs, &*cube, 0), 0).map_err(e)?;
    let d3 = webtensor::autograd::grads_of(&ops::sum(&d2, None, false).map_err(e)?, &[x.clone()], None, false).map_err(e)?;
    // w is 0.5 and 1.2 at the two positions (first_grad's weights), applied twice.
    let d3 = read(d3[0].as_ref().ok_or("no third derivative")?).await?;
    close("d3 x^3", &d3, &[6.0 * 0.5 * 0.5, 6.0 * 1.2 * 1.2], 1e-5, 1e-5)?;
    // A rule run by a fused kernel is refused, naming the op, rather than counted as a constant.
    let x = t(&dev, &rng.vec(8, -1.0, 1.0), &[2, 4])?;
    x.set_requires_grad(true).map_err(e)?;
    match first_grad(&[x], &|xs: &[Tensor]| ops::layer_norm(&xs[0], None, None, 1e-5), 0) {
        Err(err) if err.to_string().contains("layer_norm") && err.to_string().contains("gradient of a gradient") => Ok(()),
        other => Err(format!("a second derivative through layer_norm: {:?}", other.map(|t| t.shape().to_vec()))),
    }
}

/// Values in [lo, hi) with random signs: away from the kinks of relu, abs, max, ...
fn away_from_zero(rng: &mut Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    rng.vec(n, lo, hi).into_iter().map(|v| if rng.next_f32() < 0.5 { -v } else { v }).collect()
}

/// Six inputs for a gradient check of `op`, inside its domain and away from its kinks and jumps
/// (by more than the differences' step), with its (alpha, beta).
fn unary_check_input(op: ops::UnaryOp, rng: &mut Rng) -> (Vec<f32>, f32, f32) {
    let data = match op.name() {
        // away from the poles (second derivatives grow as x^-3)
        "log" | "sqrt" | "rsqrt" | "reciprocal" => rng.vec(6, 0.5, 2.0),
        "asin" | "acos" | "atanh" => away_from_zero(rng, 6, 0.1, 0.6),
        "acosh" => rng.vec(6, 1.4, 3.0),
        "tan" => away_from_zero(rng, 6, 0.1, 1.0),
        "log1p" => rng.vec(6, -0.5, 2.0),
        // piecewise constant: stay away from the jumps
        "floor" | "ceil" | "round" | "sign" => rng.vec(6, 0.1, 0.4).into_iter().enumerate().map(|(i, v)| v + i as f32 - 3.0).collect(),
        "relu6" => rng.vec(6, 0.2, 5.8),
        // straight through: small values, whose half-precision steps (< 2^-16) are far below
        // the differences' step, so the staircase reads as its slope 1
        "round_f16" => rng.vec(6, 0.002, 0.02),
        // inside and outside [-0.5, 0.3], each more than EPS from the bounds
        "clip" => vec![0.1, -0.2, 0.6, -0.9, 0.25, -0.45],
        _ => away_from_zero(rng, 6, 0.2, 1.5),
    };
    let (alpha, beta) = match op.name() {
        "leaky_relu" => (0.2, 0.0),
        "clip" => (-0.5, 0.3),
        _ => (0.0, 0.0),
    };
    (data, alpha, beta)
}

pub async fn unary_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(11);
    for &op in ops::UnaryOp::ALL {
        let (data, alpha, beta) = unary_check_input(op, &mut rng);
        grad_check(&dev, op.name(), &[(data, vec![2, 3])], &move |x| ops::unary(op, &x[0], alpha, beta)).await?;
    }
    Ok(())
}

pub async fn binary_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(12);
    // (ops without a gradient, as TF.js's bitwiseAnd, record no node: nothing to check)
    for &op in ops::BinaryOp::ALL.iter().filter(|op| op.def().grad.is_some()) {
        let name = op.name();
        for (sa, sb) in [(vec![2, 3], vec![2, 3]), (vec![2, 3], vec![3]), (vec![4, 1], vec![1, 3])] {
            let na: usize = sa.iter().product();
            let nb: usize = sb.iter().product();
            let a = match name {
                "pow" => rng.vec(na, 0.5, 2.0),
                // a / b in (1.3, 1.9): floor(a / b) = 1 everywhere, far from its jumps
                "mod" => rng.vec(na, 3.2, 3.8),
                _ => away_from_zero(&mut rng, na, 0.5, 2.0),
            };
            // maximum/minimum: keep the operands apart so no element sits on the switch
            let b = match name {
                "div" => away_from_zero(&mut rng, nb, 0.5, 2.0),
                "mod" => rng.vec(nb, 2.0, 2.4),
                "maximum" | "minimum" => rng.vec(nb, -0.3, 0.3),
                _ => rng.vec(nb, -1.5, 1.5),
            };
            grad_check(&dev, &format!("{name} {sa:?} {sb:?}"), &[(a, sa.clone()), (b, sb.clone())], &move |x| ops::binary(op, &x[0], &x[1])).await?;
        }
    }
    Ok(())
}

pub async fn reduce_and_matmul_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(13);
    for kind in [Reduce::Sum, Reduce::Mean, Reduce::Max, Reduce::Min, Reduce::Prod, Reduce::LogSumExp] {
        for axes in [Some(vec![1i64]), Some(vec![0, 2]), None] {
            let data = away_from_zero(&mut rng, 24, 0.3, 1.5);
            let ax = axes.clone();
            grad_check(&dev, &format!("{kind:?} {axes:?}"), &[(data, vec![2, 3, 4])], &move |x| ops::reduce(kind, &x[0], ax.as_deref(), false)).await?;
        }
    }
    // prod with zeros: one zero in a group, two zeros in another
    grad_check(&dev, "prod with zeros", &[(vec![0.0, 2.0, 3.0, 0.0, 0.0, 5.0, 1.5, 2.0, 0.5], vec![3, 3])], &|x| ops::reduce(Reduce::Prod, &x[0], Some(&[1]), false)).await?;
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let (m, k, n) = (3, 4, 2);
        let a = rng.vec(m * k, -1.0, 1.0);
        let b = rng.vec(k * n, -1.0, 1.0);
        let sa = if ta { vec![k, m] } else { vec![m, k] };
        let sb = if tb { vec![n, k] } else { vec![k, n] };
        grad_check(&dev, &format!("matmul ta={ta} tb={tb}"), &[(a, sa), (b, sb)], &move |x| ops::matmul(&x[0], &x[1], ta, tb)).await?;
    }
    let a = rng.vec(2 * 3 * 4, -1.0, 1.0);
    let b = rng.vec(3 * 4 * 2, -1.0, 1.0);
    grad_check(&dev, "batched broadcast matmul", &[(a, vec![2, 1, 3, 4]), (b, vec![3, 4, 2])], &|x| ops::matmul(&x[0], &x[1], false, false)).await?;
    Ok(())
}

pub async fn layout_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(14);
    let x = rng.vec(24, -1.0, 1.0);
    grad_check(&dev, "reshape", &[(x.clone(), vec![2, 3, 4])], &|x| ops::reshape(&x[0], &[4, -1])).await?;
    grad_check(&dev, "transpose", &[(x.clone(), vec![2, 3, 4])], &|x| ops::transpose(&x[0], Some(&[2, 0, 1]))).await?;
    grad_check(&dev, "slice", &[(x.clone(), vec![2, 3, 4])], &|x| ops::slice(&x[0], &[1, 0, 1], &[1, 2, -1])).await?;
    grad_check(&dev, "pad", &[(x.clone(), vec![2, 3, 4])], &|x| ops::pad(&x[0], &[(1, 0), (0, 2), (1, 1)], 0.5)).await?;
    grad_check(&dev, "broadcast_to", &[(rng.vec(3, -1.0, 1.0), vec![3, 1])], &|x| ops::broadcast_to(&x[0], &[2, 3, 4])).await?;
    grad_check(&dev, "concat", &[(rng.vec(6, -1.0, 1.0), vec![2, 3]), (rng.vec(4, -1.0, 1.0), vec![2, 2])], &|x| ops::concat(&[&x[0], &x[1]], 1)).await?;
    grad_check(&dev, "stack", &[(rng.vec(3, -1.0, 1.0), vec![3]), (rng.vec(3, -1.0, 1.0), vec![3])], &|x| ops::stack(&[&x[0], &x[1]], 0)).await?;
    grad_check(&dev, "where", &[(rng.vec(6, -1.0, 1.0), vec![2, 3]), (rng.vec(3, -1.0, 1.0), vec![3])], &|x| {
        let cond = ops::greater(&x[0], &ops::fill(x[0].device(), &[], 0.0, DType::F32)?)?;
        ops::where_(&cond, &x[0], &x[1])
    })
    .await?;
    Ok(())
}

/// micrograd-style: a composed expression whose gradient is derived by hand.
pub async fn composed_expression_gradient(dev: Device) -> CaseResult {
    // d = a*b; e = d + c; f = e^2; g = f / a; L = g + relu(-b)
    // a=2, b=-3, c=10: d=-6, e=4, f=16, g=8, relu(3)=3, L=11
    // dL/da = (dL/dd) b + dL/dg * (-f/a^2) = (2e/a) b - f/a^2 = 4*(-3) - 4 = -16
    // dL/db = (2e/a) a + d relu(-b)/db = 8 - 1 = 7;   dL/dc = 2e/a = 4
    let a = t(&dev, &[2.0], &[])?;
    let b = t(&dev, &[-3.0], &[])?;
    let c = t(&dev, &[10.0], &[])?;
    for x in [&a, &b, &c] {
        x.set_requires_grad(true).map_err(e)?;
    }
    let d = ops::mul(&a, &b).map_err(e)?;
    let ee = ops::add(&d, &c).map_err(e)?;
    let f = ops::square(&ee).map_err(e)?;
    let g = ops::div(&f, &a).map_err(e)?;
    let l = ops::add(&g, &ops::relu(&ops::neg(&b).map_err(e)?).map_err(e)?).map_err(e)?;
    exact("L", &read(&l).await?, &[11.0])?;
    webtensor::autograd::backward(&l).map_err(e)?;
    for (name, x, want) in [("a", &a, -16.0), ("b", &b, 7.0), ("c", &c, 4.0)] {
        let gx = x.grad().ok_or(format!("no grad for {name}"))?;
        exact(&format!("dL/d{name}"), &read(&gx).await?, &[want])?;
    }
    // gradients accumulate over backward calls until zeroed
    webtensor::autograd::backward(&l).map_err(e)?;
    exact("accumulated dL/dc", &read(&c.grad().unwrap()).await?, &[8.0])?;
    c.zero_grad();
    if c.grad().is_some() {
        return Err("zero_grad left a gradient".into());
    }
    // no_grad records nothing; functional form leaves the inputs' grads alone
    let untracked = webtensor::autograd::no_grad(|| ops::mul(&a, &b)).map_err(e)?;
    if untracked.tracks_grad() {
        return Err("no_grad result tracks gradients".into());
    }
    let (value, grads) = webtensor::autograd::value_and_grads(&[&a, &b], |x| ops::mul(&x[0], &x[1])).map_err(e)?;
    exact("value", &read(&value).await?, &[-6.0])?;
    exact("d(ab)/da", &read(&grads[0]).await?, &[-3.0])?;
    exact("d(ab)/db", &read(&grads[1]).await?, &[2.0])?;
    match webtensor::autograd::backward(&ops::mul(&a, &t(&dev, &[1.0, 2.0], &[2])?).map_err(e)?) {
        Err(err) if err.to_string().contains("scalar") => {}
        other => return Err(format!("backward of a vector: {other:?}")),
    }
    if Tensor::from_i32(&dev, &[1], &[1]).map_err(e)?.set_requires_grad(true).is_ok() {
        return Err("an int32 tensor accepted requires_grad".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Training ops, optimizers, training

pub async fn softmax_and_losses(dev: Device) -> CaseResult {
    let logits = [1.0f32, 2.0, 3.0, -1.0, 0.0, 1e4];
    let x = t(&dev, &logits, &[2, 3])?;
    let sm = read(&ops::softmax(&x, -1).map_err(e)?).await?;
    let z: f64 = (1f64).exp() + 2f64.exp() + 3f64.exp();
    let want = [1f64.exp() / z, 2f64.exp() / z, 3f64.exp() / z, 0.0, 0.0, 1.0];
    close("softmax", &sm, &want, 1e-5, 1e-7)?;
    // Logits of 1e9 (64 apart: one float32 step there), masked entries, and a row masked whole
    // (NaN, as the composition and TF.js give).
    let inf = f32::INFINITY;
    let extreme = read(&ops::softmax(&t(&dev, &[1e9, 1e9 - 64.0, -inf, 0.0, -inf, -inf, -inf, -inf], &[2, 4])?, -1).map_err(e)?).await?;
    close("softmax at 1e9 and -inf", &extreme[..4], &[1.0, (-64f64).exp(), 0.0, 0.0], 1e-6, 1e-30)?;
    if !extreme[4..].iter().all(|v| v.is_nan()) {
        return Err(format!("softmax of a row of -inf: {:?}, expected NaN", &extreme[4..]));
    }
    let lsm = read(&ops::log_softmax(&x, 1).map_err(e)?).await?;
    close("log_softmax", &lsm, &[1.0 - z.ln(), 2.0 - z.ln(), 3.0 - z.ln(), -1.0 - 1e4, -1e4, 0.0], 1e-5, 1e-5)?;
    let lse = read(&ops::log_sum_exp(&x, -1, false).map_err(e)?).await?;
    close("log_sum_exp", &lse, &[z.ln(), 1e4], 1e-6, 1e-5)?;
    // cross-entropy: class 2 then class 0 (logit 1e4 wrong by 1e4 + 1)
    let onehot = t(&dev, &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0], &[2, 3])?;
    let ce = read(&ops::softmax_cross_entropy(&onehot, &x).map_err(e)?).await?;
    close("softmax_cross_entropy", &ce, &[((z.ln() - 3.0) + (1e4 + 1.0)) / 2.0], 1e-5, 1e-4)?;
    let labels = ti(&dev, &[2, 0], &[2])?;
    let sce = read(&ops::sparse_softmax_cross_entropy(&labels, &x).map_err(e)?).await?;
    close("sparse_softmax_cross_entropy", &sce, &[((z.ln() - 3.0) + (1e4 + 1.0)) / 2.0], 1e-5, 1e-4)?;
    let oh = read(&ops::one_hot(&ti(&dev, &[1, 0, 5, -1], &[4])?, 3).map_err(e)?).await?;
    exact("one_hot", &oh, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])?;
    let p = t(&dev, &[0.9, 0.2, 0.0, 1.0], &[4])?;
    let y = t(&dev, &[1.0, 0.0, 0.0, 1.0], &[4])?;
    let bce = read(&ops::binary_cross_entropy(&y, &p).map_err(e)?).await?;
    let eps = 1e-7f64;
    let want_bce = -((0.9f64).ln() + (0.8f64).ln() + (1.0 - eps).ln() + (1.0 - eps as f32 as f64).ln()) / 4.0;
    close("binary_cross_entropy", &bce, &[want_bce], 1e-4, 1e-6)?;
    let lg = t(&dev, &[2.0, -1.0, 1e4, -1e4], &[4])?;
    let sig = read(&ops::sigmoid_cross_entropy(&y, &lg).map_err(e)?).await?;
    let softplus = |v: f64| (1.0 + v.exp()).ln();
    close("sigmoid_cross_entropy", &sig, &[(softplus(-2.0) + softplus(-1.0) + 1e4 + 1e4) / 4.0], 1e-5, 1e-4)?;
    let mse = read(&ops::mean_squared_error(&y, &p).map_err(e)?).await?;
    close("mse", &mse, &[(0.01 + 0.04 + 0.0 + 0.0) / 4.0], 1e-5, 1e-7)?;
    // Per-sample losses (Keras's weighting unit): their mean is each loss, for every loss.
    let mut rng = Rng::new(77);
    let probs = ops::softmax(&t(&dev, &rng.vec(12, -2.0, 2.0), &[3, 4])?, -1).map_err(e)?;
    let onehot3 = t(&dev, &[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0], &[3, 4])?;
    let classes = ti(&dev, &[1, 3, 0], &[3])?;
    for loss in [Loss::MeanSquaredError, Loss::MeanAbsoluteError, Loss::SoftmaxCrossEntropy, Loss::SparseSoftmaxCrossEntropy, Loss::BinaryCrossEntropy,
        Loss::SigmoidCrossEntropy, Loss::CategoricalCrossEntropy, Loss::SparseCategoricalCrossEntropy, Loss::Hinge] {
        let labels = if matches!(loss, Loss::SparseSoftmaxCrossEntropy | Loss::SparseCategoricalCrossEntropy) { &classes } else { &onehot3 };
        let rows = loss.per_sample(labels, &probs).map_err(e)?;
        shape_is(&format!("{loss:?} per sample"), &rows, &[3])?;
        let whole = read(&loss.apply(labels, &probs).map_err(e)?).await?[0] as f64;
        let mean = read(&rows).await?.iter().map(|&v| v as f64).sum::<f64>() / 3.0;
        close(&format!("{loss:?}: mean of per-sample"), &[mean as f32], &[whole], 1e-5, 1e-6)?;
    }
    let p3 = read(&probs).await?;
    let rows = read(&Loss::CategoricalCrossEntropy.per_sample(&onehot3, &probs).map_err(e)?).await?;
    close("categorical cross-entropy per row", &rows, &[-(p3[1] as f64).ln(), -(p3[7] as f64).ln(), -(p3[8] as f64).ln()], 1e-5, 1e-6)?;
    let (m, v) = ops::moments(&t(&dev, &[1.0, 2.0, 3.0, 5.0], &[2, 2])?, &[1], false).map_err(e)?;
    exact("moments mean", &read(&m).await?, &[1.5, 4.0])?;
    exact("moments var", &read(&v).await?, &[0.25, 1.0])?;
    // dropout: about rate zeroed, survivors scaled by 1/(1-rate), same seed same mask
    let ones = ops::ones(&dev, &[10000], DType::F32).map_err(e)?;
    let d = read(&ops::dropout::dropout(&ones, 0.3, Some(5)).map_err(e)?).await?;
    let kept = d.iter().filter(|&&v| v != 0.0).count() as f64 / 1e4;
    if (kept - 0.7).abs() > 0.02 || d.iter().any(|&v| v != 0.0 && (v - 1.0 / 0.7).abs() > 1e-5) {
        return Err(format!("dropout kept {kept} (expected 0.7), values {:?}", &d[..8]));
    }
    Ok(())
}

pub async fn training_op_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(15);
    let logits = rng.vec(12, -2.0, 2.0);
    grad_check(&dev, "softmax", &[(logits.clone(), vec![3, 4])], &|x| ops::softmax(&x[0], -1)).await?;
    grad_check(&dev, "log_softmax axis 0", &[(logits.clone(), vec![3, 4])], &|x| ops::log_softmax(&x[0], 0)).await?;
    grad_check(&dev, "log_sum_exp", &[(logits.clone(), vec![3, 4])], &|x| ops::log_sum_exp(&x[0], 1, false)).await?;
    let labels = vec![0.0, 1.0, 0.0, 0.0, 0.2, 0.2, 0.3, 0.3, 1.0, 0.0, 0.0, 0.0];
    grad_check(&dev, "softmax_cross_entropy", &[(labels.clone(), vec![3, 4]), (logits.clone(), vec![3, 4])], &|x| {
        ops::softmax_cross_entropy(&x[0], &x[1])
    })
    .await?;
    grad_check(&dev, "sparse_softmax_cross_entropy", &[(logits.clone(), vec![3, 4])], &|x| {
        ops::sparse_softmax_cross_entropy(&Tensor::from_i32(x[0].device(), &[1, 3, 0], &[3])?, &x[0])
    })
    .await?;
    let probs = rng.vec(6, 0.1, 0.9);
    let targets = vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    grad_check(&dev, "binary_cross_entropy", &[(targets.clone(), vec![6]), (probs, vec![6])], &|x| ops::binary_cross_entropy(&x[0], &x[1])).await?;
    grad_check(&dev, "sigmoid_cross_entropy", &[(targets.clone(), vec![6]), (rng.vec(6, -3.0, 3.0), vec![6])], &|x| ops::sigmoid_cross_entropy(&x[0], &x[1])).await?;
    grad_check(&dev, "mse", &[(targets, vec![6]), (rng.vec(6, -1.0, 1.0), vec![6])], &|x| ops::mean_squared_error(&x[0], &x[1])).await?;
    // a seeded mask is the same on every call and on both backends (same random bits)
    grad_check(&dev, "dropout", &[(rng.vec(20, -1.0, 1.0), vec![4, 5])], &|x| ops::dropout::dropout(&x[0], 0.4, Some(9))).await?;
    grad_check(&dev, "moments", &[(rng.vec(12, -1.0, 1.0), vec![3, 4])], &|x| {
        let (m, v) = ops::moments(&x[0], &[0], false)?;
        ops::add(&m, &v)
    })
    .await?;
    Ok(())
}

fn opt_ref(kind: &webtensor::optim::Kind, lr: f64, p: &mut [f64], grads: &[[f64; 2]]) {
    use webtensor::optim::Kind;
    let mut s0 = [0.0f64; 2];
    let mut s1 = [0.0f64; 2];
    let mut mean_g = [0.0f64; 2];
    if let Kind::Adagrad { initial_accumulator, .. } = kind {
        s0 = [*initial_accumulator as f64; 2];
    }
    for (step, g) in grads.iter().enumerate() {
        let t = (step + 1) as f64;
        for i in 0..2 {
            let gi = g[i];
            match *kind {
                Kind::Sgd => p[i] -= lr * gi,
                Kind::Momentum { momentum, nesterov } => {
                    s0[i] = momentum as f64 * s0[i] + gi;
                    p[i] -= lr * if nesterov { gi + momentum as f64 * s0[i] } else { s0[i] };
                }
                Kind::Adam { beta1, beta2, eps } | Kind::AdamW { beta1, beta2, eps, .. } => {
                    let wd = if let Kind::AdamW { weight_decay, .. } = *kind { weight_decay as f64 } else { 0.0 };
                    let (b1, b2) = (beta1 as f64, beta2 as f64);
                    s0[i] = b1 * s0[i] + (1.0 - b1) * gi;
                    s1[i] = b2 * s1[i] + (1.0 - b2) * gi * gi;
                    let mh = s0[i] / (1.0 - b1.powf(t));
                    let vh = s1[i] / (1.0 - b2.powf(t));
                    p[i] = p[i] - lr * mh / (vh.sqrt() + eps as f64) - lr * wd * p[i];
                }
                Kind::RmsProp { rho, momentum, eps, centered } => {
                    s0[i] = rho as f64 * s0[i] + (1.0 - rho as f64) * gi * gi;
                    mean_g[i] = rho as f64 * mean_g[i] + (1.0 - rho as f64) * gi;
                    let variance = if centered { s0[i] - mean_g[i] * mean_g[i] } else { s0[i] };
                    s1[i] = momentum as f64 * s1[i] + lr * gi / (variance + eps as f64).sqrt();
                    p[i] -= s1[i];
                }
                Kind::Adamax { beta1, beta2, eps, decay } => {
                    let (b1, b2) = (beta1 as f64, beta2 as f64);
                    s0[i] = b1 * s0[i] + (1.0 - b1) * gi;
                    s1[i] = (b2 * s1[i]).max(gi.abs());
                    let lr_t = lr / (1.0 + decay as f64 * (t - 1.0));
                    p[i] -= lr_t / (1.0 - b1.powf(t)) * s0[i] / (s1[i] + eps as f64);
                }
                Kind::Adadelta { rho, eps } => {
                    let (r, e) = (rho as f64, eps as f64);
                    // TF.js divides by the average from before this gradient
                    let d = (s1[i] + e).sqrt() / (s0[i] + e).sqrt() * gi;
                    s0[i] = r * s0[i] + (1.0 - r) * gi * gi;
                    s1[i] = r * s1[i] + (1.0 - r) * d * d;
                    p[i] -= lr * d;
                }
                Kind::Adagrad { eps, .. } => {
                    s0[i] += gi * gi;
                    p[i] -= lr * gi / (s0[i] + eps as f64).sqrt();
                }
            }
        }
    }
}

/// Three steps of each optimizer against the update rules computed by hand in f64.
pub async fn optimizer_steps(dev: Device) -> CaseResult {
    use webtensor::optim::{Kind, Optimizer};
    let kinds = [
        Kind::Sgd,
        Kind::Momentum { momentum: 0.9, nesterov: false },
        Kind::Momentum { momentum: 0.9, nesterov: true },
        Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-7 },
        Kind::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-7, weight_decay: 0.01 },
        Kind::RmsProp { rho: 0.9, momentum: 0.5, eps: 1e-7, centered: false },
        Kind::RmsProp { rho: 0.9, momentum: 0.5, eps: 1e-7, centered: true },
        Kind::Adagrad { initial_accumulator: 0.1, eps: 1e-7 },
        Kind::Adamax { beta1: 0.9, beta2: 0.999, eps: 1e-7, decay: 0.1 },
        Kind::Adadelta { rho: 0.95, eps: 1e-6 },
    ];
    let grads = [[0.5, -1.0], [0.1, 0.2], [-0.3, 0.4]];
    for kind in kinds {
        let p = t(&dev, &[1.0, -2.0], &[2])?;
        p.set_requires_grad(true).map_err(e)?;
        let mut opt = Optimizer::new(kind, 0.1);
        for g in &grads {
            let gt = t(&dev, &[g[0] as f32, g[1] as f32], &[2])?;
            let loss = ops::sum(&ops::mul(&p, &gt).map_err(e)?, None, false).map_err(e)?;
            webtensor::autograd::backward(&loss).map_err(e)?;
            opt.step(std::slice::from_ref(&p)).map_err(e)?;
        }
        let mut want = [1.0f64, -2.0];
        opt_ref(&kind, 0.1, &mut want, &grads);
        close(&format!("{kind:?}"), &read(&p).await?, &want, 1e-5, 1e-6)?;
        // Eleven parameters in one step (the GPU updates several per dispatch), each with its own
        // values and gradients.
        let params: Vec<Tensor> = (0..11).map(|k| t(&dev, &[1.0 + k as f32, -2.0 - k as f32], &[2])).collect::<Result<_, _>>()?;
        let mut opt = Optimizer::new(kind, 0.1);
        for g in &grads {
            let mut loss = ops::zeros(&dev, &[], DType::F32).map_err(e)?;
            for (k, p) in params.iter().enumerate() {
                p.set_requires_grad(true).map_err(e)?;
                let gt = t(&dev, &[g[0] as f32 * (k + 1) as f32, g[1] as f32 * (k + 1) as f32], &[2])?;
                loss = ops::add(&loss, &ops::sum(&ops::mul(p, &gt).map_err(e)?, None, false).map_err(e)?).map_err(e)?;
            }
            webtensor::autograd::backward(&loss).map_err(e)?;
            opt.step(&params).map_err(e)?;
        }
        for (k, p) in params.iter().enumerate() {
            let mut want = [1.0 + k as f64, -2.0 - k as f64];
            let scaled: Vec<[f64; 2]> = grads.iter().map(|g| [g[0] * (k + 1) as f64, g[1] * (k + 1) as f64]).collect();
            opt_ref(&kind, 0.1, &mut want, &scaled);
            close(&format!("{kind:?} parameter {k} of 11"), &read(p).await?, &want, 1e-5, 1e-6)?;
        }
    }
    // global-norm clipping scales inside the fused step: grads (3, 4) have norm 5, clip to 1
    let p = t(&dev, &[0.0, 0.0], &[2])?;
    p.set_requires_grad(true).map_err(e)?;
    let loss = ops::sum(&ops::mul(&p, &t(&dev, &[3.0, 4.0], &[2])?).map_err(e)?, None, false).map_err(e)?;
    webtensor::autograd::backward(&loss).map_err(e)?;
    let (norm, scale) = webtensor::optim::clip_by_global_norm(std::slice::from_ref(&p), 1.0).map_err(e)?;
    close("global norm", &read(&norm).await?, &[5.0], 1e-6, 0.0)?;
    let mut sgd = Optimizer::new(Kind::Sgd, 1.0);
    sgd.step_scaled(std::slice::from_ref(&p), Some(&scale)).map_err(e)?;
    close("clipped step", &read(&p).await?, &[-0.6, -0.8], 1e-5, 1e-6)?;
    Ok(())
}

/// An MLP learns XOR (loss < 0.01), and 200 training steps leave live tensors and device
/// memory exactly where they were after the first steps.
pub async fn mlp_learns_xor(dev: Device) -> CaseResult {
    use webtensor::optim::{Kind, Optimizer};
    let x = t(&dev, &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2])?;
    let y = t(&dev, &[0.0, 1.0, 1.0, 0.0], &[4, 1])?;
    let w1 = ops::random_normal(&dev, &[2, 8], 0.0, 1.0, Some(1)).map_err(e)?;
    let b1 = ops::zeros(&dev, &[8], DType::F32).map_err(e)?;
    let w2 = ops::random_normal(&dev, &[8, 1], 0.0, 0.5, Some(2)).map_err(e)?;
    let b2 = ops::zeros(&dev, &[1], DType::F32).map_err(e)?;
    let params = vec![w1, b1, w2, b2];
    for p in &params {
        p.set_requires_grad(true).map_err(e)?;
    }
    let mut opt = Optimizer::new(Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-7 }, 0.05);
    let step = |opt: &mut Optimizer| -> webtensor::Result<Tensor> {
        let h = ops::tanh(&ops::add(&ops::matmul(&x, &params[0], false, false)?, &params[1])?)?;
        let logits = ops::add(&ops::matmul(&h, &params[2], false, false)?, &params[3])?;
        let loss = ops::sigmoid_cross_entropy(&y, &logits)?;
        webtensor::autograd::backward(&loss)?;
        opt.step(&params)?;
        Ok(loss.detach())
    };
    let mut first = None;
    let mut baseline = None;
    let mut last = f32::NAN;
    for i in 0..300 {
        let loss = step(&mut opt).map_err(e)?;
        if i == 0 {
            first = Some(read(&loss).await?[0]);
        }
        if i == 9 {
            read(&loss).await?;
            drop(loss);
            baseline = Some(memory(&dev));
            continue;
        }
        if i == 299 {
            last = read(&loss).await?[0];
            drop(loss);
            let now = memory(&dev);
            if Some(now) != baseline {
                return Err(format!("memory grew over training: after step 10 {baseline:?}, after step 300 {now:?}"));
            }
        }
    }
    if !(last < 0.01) {
        return Err(format!("XOR loss {last} after 300 steps (started at {first:?}), expected < 0.01"));
    }
    Ok(())
}

/// (live tensors, device bytes held by live buffers)
fn memory(dev: &Device) -> (usize, u64) {
    let bytes = match dev {
        Device::Gpu(ctx) => ctx.pool_stats().live_bytes,
        Device::Cpu => 0,
    };
    (webtensor::tensor::live_tensors(), bytes)
}

// ---------------------------------------------------------------------------------------------
// Convolutions and pooling

struct ConvCase {
    x: [usize; 4],
    k: (usize, usize),
    s: (usize, usize),
    d: (usize, usize),
    same: bool,
}

/// Direct NHWC convolution in f64 with TF.js padding; `depthwise` uses filter [kh, kw, c, m].
fn conv_ref(x: &[f32], xs: [usize; 4], f: &[f32], fs: [usize; 4], s: (usize, usize), d: (usize, usize), same: bool, depthwise: bool) -> (Vec<f64>, [usize; 4]) {
    let [n, h, w, c] = xs;
    let [kh, kw, _, m] = fs;
    let (ekh, ekw) = ((kh - 1) * d.0 + 1, (kw - 1) * d.1 + 1);
    let (oh, ow, pt, pl) = if same {
        let (oh, ow) = (h.div_ceil(s.0), w.div_ceil(s.1));
        (oh, ow, ((oh - 1) * s.0 + ekh).saturating_sub(h) / 2, ((ow - 1) * s.1 + ekw).saturating_sub(w) / 2)
    } else {
        ((h - ekh) / s.0 + 1, (w - ekw) / s.1 + 1, 0, 0)
    };
    let oc = if depthwise { c * m } else { m };
    let mut out = vec![0f64; n * oh * ow * oc];
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * s.0 + ky * d.0) as isize - pt as isize;
                        let ix = (ox * s.1 + kx * d.1) as isize - pl as isize;
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                            continue;
                        }
                        for ci in 0..c {
                            let xv = x[((b * h + iy as usize) * w + ix as usize) * c + ci] as f64;
                            for q in 0..m {
                                let fv = f[((ky * kw + kx) * c + ci) * m + q] as f64;
                                let o = if depthwise { ci * m + q } else { q };
                                out[((b * oh + oy) * ow + ox) * oc + o] += xv * fv;
                            }
                        }
                    }
                }
            }
        }
    }
    (out, [n, oh, ow, oc])
}

pub async fn convolutions_vs_reference(dev: Device) -> CaseResult {
    use webtensor::ops::Padding;
    let mut rng = Rng::new(21);
    let cases = [
        ConvCase { x: [2, 5, 7, 3], k: (3, 3), s: (1, 1), d: (1, 1), same: true },
        ConvCase { x: [1, 8, 8, 2], k: (3, 2), s: (2, 2), d: (1, 1), same: true },
        ConvCase { x: [2, 9, 6, 4], k: (2, 3), s: (2, 1), d: (1, 1), same: false },
        ConvCase { x: [1, 9, 9, 2], k: (3, 3), s: (1, 1), d: (2, 2), same: true },
        ConvCase { x: [1, 9, 9, 1], k: (3, 3), s: (1, 1), d: (2, 1), same: false },
    ];
    for (i, cs) in cases.iter().enumerate() {
        let pad = if cs.same { Padding::Same } else { Padding::Valid };
        let xv = rng.vec(cs.x.iter().product(), -1.0, 1.0);
        let x = t(&dev, &xv, &cs.x)?;
        let fs = [cs.k.0, cs.k.1, cs.x[3], 5];
        let fv = rng.vec(fs.iter().product(), -1.0, 1.0);
        let (want, os) = conv_ref(&xv, cs.x, &fv, fs, cs.s, cs.d, cs.same, false);
        let y = ops::conv2d(&x, &t(&dev, &fv, &fs)?, cs.s, pad, cs.d).map_err(e)?;
        shape_is(&format!("conv2d case {i}"), &y, &os)?;
        close(&format!("conv2d case {i}"), &read(&y).await?, &want, 1e-4, 1e-5)?;
        let dfs = [cs.k.0, cs.k.1, cs.x[3], 2];
        let dfv = rng.vec(dfs.iter().product(), -1.0, 1.0);
        let (want, os) = conv_ref(&xv, cs.x, &dfv, dfs, cs.s, cs.d, cs.same, true);
        let y = ops::depthwise_conv2d(&x, &t(&dev, &dfv, &dfs)?, cs.s, pad, cs.d).map_err(e)?;
        shape_is(&format!("depthwise case {i}"), &y, &os)?;
        close(&format!("depthwise case {i}"), &read(&y).await?, &want, 1e-4, 1e-5)?;
    }
    // Channels in fours and at least 64 outputs: the vec4 implicit-GEMM kernel on emulated GPUs.
    for (xs, k, st, d, co, same) in [([2, 9, 7, 8], (3, 3), (1, 1), (1, 1), 68, true), ([1, 10, 11, 4], (3, 2), (2, 2), (1, 1), 72, false), ([1, 12, 9, 12], (3, 3), (1, 1), (2, 2), 64, true)] {
        let xv = rng.vec(xs.iter().product(), -1.0, 1.0);
        let fs = [k.0, k.1, xs[3], co];
        let fv = rng.vec(fs.iter().product(), -1.0, 1.0);
        let (want, os) = conv_ref(&xv, xs, &fv, fs, st, d, same, false);
        let y = ops::conv2d(&t(&dev, &xv, &xs)?, &t(&dev, &fv, &fs)?, st, if same { Padding::Same } else { Padding::Valid }, d).map_err(e)?;
        shape_is(&format!("wide conv2d {xs:?}"), &y, &os)?;
        close(&format!("wide conv2d {xs:?}"), &read(&y).await?, &want, 1e-4, 1e-4)?;
    }
    // conv2d_transpose is the adjoint of conv2d: <conv(x), y> == <x, conv_t(y)>
    let xs = [2, 6, 5, 3];
    let fs = [3, 3, 3, 4];
    let xv = rng.vec(xs.iter().product(), -1.0, 1.0);
    let fv = rng.vec(fs.iter().product(), -1.0, 1.0);
    let f = t(&dev, &fv, &fs)?;
    let y = ops::conv2d(&t(&dev, &xv, &xs)?, &f, (2, 2), Padding::Same, (1, 1)).map_err(e)?;
    let yv = rng.vec(y.numel(), -1.0, 1.0);
    let lhs: f64 = read(&y).await?.iter().zip(&yv).map(|(&a, &b)| a as f64 * b as f64).sum();
    let xt = ops::conv2d_transpose(&t(&dev, &yv, y.shape())?, &f, &xs, (2, 2), Padding::Same).map_err(e)?;
    shape_is("conv2d_transpose", &xt, &xs)?;
    let rhs: f64 = read(&xt).await?.iter().zip(&xv).map(|(&a, &b)| a as f64 * b as f64).sum();
    close("conv2d_transpose adjoint", &[lhs as f32], &[rhs], 1e-4, 1e-4)?;
    Ok(())
}

pub async fn pooling_hand_values(dev: Device) -> CaseResult {
    use webtensor::ops::Padding;
    // 1 x 4 x 4 x 1 image 0..15
    let x = t(&dev, &(0..16).map(|v| v as f32).collect::<Vec<_>>(), &[1, 4, 4, 1])?;
    let mp = ops::max_pool(&x, (2, 2), (2, 2), Padding::Valid).map_err(e)?;
    shape_is("max_pool", &mp, &[1, 2, 2, 1])?;
    exact("max_pool", &read(&mp).await?, &[5.0, 7.0, 13.0, 15.0])?;
    let ap = ops::avg_pool(&x, (2, 2), (2, 2), Padding::Valid).map_err(e)?;
    exact("avg_pool", &read(&ap).await?, &[2.5, 4.5, 10.5, 12.5])?;
    // 'same' 3x3 stride 1: corners average only their 4 in-image pixels, as TF.js
    let aps = ops::avg_pool(&x, (3, 3), (1, 1), Padding::Same).map_err(e)?;
    let v = read(&aps).await?;
    exact("avg_pool same corner", &v[..1], &[(0.0 + 1.0 + 4.0 + 5.0) / 4.0])?;
    exact("avg_pool same centre", &v[5..6], &[(0.0 + 1.0 + 2.0 + 4.0 + 5.0 + 6.0 + 8.0 + 9.0 + 10.0) / 9.0])?;
    let neg = t(&dev, &[-1.0, -2.0, -3.0, -4.0], &[1, 2, 2, 1])?;
    exact("max_pool same ignores padding", &read(&ops::max_pool(&neg, (3, 3), (1, 1), Padding::Same).map_err(e)?).await?, &[-1.0; 4])?;
    // Gradients by hand. Overlapping 3x3 'same' windows on 0..15: each window's max is its
    // bottom-right pixel, so pixel (y, x) receives one unit per window maximal there.
    let sum_of = |y: Tensor| ops::sum(&y, None, false);
    let (_, g) = webtensor::autograd::value_and_grads(&[&x], |v| sum_of(ops::max_pool(&v[0], (3, 3), (1, 1), Padding::Same)?)).map_err(e)?;
    exact("max_pool grad overlapping", &read(&g[0]).await?, &[0., 0., 0., 0., 0., 1., 1., 2., 0., 1., 1., 2., 0., 2., 2., 4.])?;
    // Ties: the whole gradient goes to the window's first maximum, as in TensorFlow.
    let flat = t(&dev, &[3.0; 8], &[1, 2, 4, 1])?;
    let (_, g) = webtensor::autograd::value_and_grads(&[&flat], |v| sum_of(ops::max_pool(&v[0], (2, 2), (2, 2), Padding::Valid)?)).map_err(e)?;
    exact("max_pool grad ties", &read(&g[0]).await?, &[1., 0., 1., 0., 0., 0., 0., 0.])?;
    // Disjoint windows that leave the last row and column unread: those get zero.
    let odd = t(&dev, &(0..9).map(|v| v as f32).collect::<Vec<_>>(), &[1, 3, 3, 1])?;
    let (_, g) = webtensor::autograd::value_and_grads(&[&odd], |v| sum_of(ops::max_pool(&v[0], (2, 2), (2, 2), Padding::Valid)?)).map_err(e)?;
    exact("max_pool grad unread pixels", &read(&g[0]).await?, &[0., 0., 0., 0., 1., 0., 0., 0., 0.])?;
    // avg 'same' 3x3 on 2x2: every window covers all 4 pixels, so each gets 4 * 1/4.
    let (_, g) = webtensor::autograd::value_and_grads(&[&neg], |v| sum_of(ops::avg_pool(&v[0], (3, 3), (1, 1), Padding::Same)?)).map_err(e)?;
    exact("avg_pool grad same", &read(&g[0]).await?, &[1.0; 4])?;
    Ok(())
}

pub async fn convolution_gradients(dev: Device) -> CaseResult {
    use webtensor::ops::Padding;
    let mut rng = Rng::new(22);
    let x = rng.vec(2 * 5 * 4 * 2, -1.0, 1.0);
    let f = rng.vec(3 * 2 * 2 * 3, -1.0, 1.0);
    grad_check(&dev, "conv2d same s2", &[(x.clone(), vec![2, 5, 4, 2]), (f.clone(), vec![3, 2, 2, 3])], &|v| ops::conv2d(&v[0], &v[1], (2, 2), Padding::Same, (1, 1))).await?;
    grad_check(&dev, "conv2d valid dilated", &[(x.clone(), vec![2, 5, 4, 2]), (f.clone(), vec![3, 2, 2, 3])], &|v| ops::conv2d(&v[0], &v[1], (1, 1), Padding::Valid, (1, 2))).await?;
    let df = rng.vec(3 * 3 * 2 * 2, -1.0, 1.0);
    grad_check(&dev, "depthwise", &[(x.clone(), vec![2, 5, 4, 2]), (df, vec![3, 3, 2, 2])], &|v| ops::depthwise_conv2d(&v[0], &v[1], (1, 1), Padding::Same, (1, 1))).await?;
    let ty = rng.vec(2 * 3 * 2 * 3, -1.0, 1.0);
    grad_check(&dev, "conv2d_transpose", &[(ty, vec![2, 3, 2, 3]), (f, vec![3, 2, 2, 3])], &|v| ops::conv2d_transpose(&v[0], &v[1], &[2, 5, 4, 2], (2, 2), Padding::Same)).await?;
    // distinct values so no window has a tie at the max
    let mut px: Vec<f32> = (0..2 * 5 * 4 * 2).map(|i| ((i * 37) % 80) as f32 * 0.05 - 2.0).collect();
    px.reverse();
    grad_check(&dev, "max_pool", &[(px.clone(), vec![2, 5, 4, 2])], &|v| ops::max_pool(&v[0], (2, 2), (2, 2), Padding::Same)).await?;
    grad_check(&dev, "avg_pool", &[(px, vec![2, 5, 4, 2])], &|v| ops::avg_pool(&v[0], (3, 2), (1, 2), Padding::Same)).await?;
    // A filter gradient over enough pixels that its reduction is split into chunks crossing image
    // boundaries. It is checked through linearity against the reference convolution:
    // <dL/df, u> = <conv(x, u), dy> for L = <conv(x, f), dy> and any direction u.
    let (xs, fs) = ([3, 11, 13, 2], [3, 3, 2, 6]);
    let xv = rng.vec(xs.iter().product(), -1.0, 1.0);
    let (fv, uv) = (rng.vec(fs.iter().product(), -1.0, 1.0), rng.vec(fs.iter().product(), -1.0, 1.0));
    let dyv = rng.vec(3 * 11 * 13 * 6, -1.0, 1.0);
    let (x, f, dy) = (t(&dev, &xv, &xs)?, t(&dev, &fv, &fs)?, t(&dev, &dyv, &[3, 11, 13, 6])?);
    let (_, g) = webtensor::autograd::value_and_grads(&[&f], |v| {
        ops::sum(&ops::mul(&ops::conv2d(&x, &v[0], (1, 1), Padding::Same, (1, 1))?, &dy)?, None, false)
    })
    .map_err(e)?;
    let lhs: f64 = read(&g[0]).await?.iter().zip(&uv).map(|(&a, &b)| a as f64 * b as f64).sum();
    let (conv_u, _) = conv_ref(&xv, xs, &uv, fs, (1, 1), (1, 1), true, false);
    let rhs: f64 = conv_u.iter().zip(&dyv).map(|(&a, &b)| a as f64 * b as f64).sum();
    close("conv2d filter gradient, split reduction", &[lhs as f32], &[rhs], 1e-3, 1e-4)?;
    // The forward pass and both gradients where channels come in fours (the vec4 kernels on the
    // GPU); the gradients by linearity:
    // <dL/dx, u> = <conv(u, f), dy> and <dL/df, v> = <conv(x, v), dy>.
    let cases = [
        ([2, 9, 8, 4], [3, 3, 4, 12], (1, 1), (1, 1), true),
        ([1, 11, 10, 8], [3, 2, 8, 4], (2, 2), (1, 1), true),
        ([2, 10, 9, 4], [3, 3, 4, 8], (1, 1), (2, 2), false),
    ];
    for (xs, fs, st, d, same) in cases {
        let pad = if same { Padding::Same } else { Padding::Valid };
        let xv = rng.vec(xs.iter().product(), -1.0, 1.0);
        let fv = rng.vec(fs.iter().product(), -1.0, 1.0);
        let (y, ys) = conv_ref(&xv, xs, &fv, fs, st, d, same, false);
        let dyv = rng.vec(y.len(), -1.0, 1.0);
        let (x, f, dy) = (t(&dev, &xv, &xs)?, t(&dev, &fv, &fs)?, t(&dev, &dyv, &ys)?);
        let conv = ops::conv2d(&x, &f, st, pad, d).map_err(e)?;
        close(&format!("conv2d {xs:?} {fs:?}"), &read(&conv).await?, &y, 1e-4, 1e-4)?;
        let (_, g) = webtensor::autograd::value_and_grads(&[&x, &f], |v| ops::sum(&ops::mul(&ops::conv2d(&v[0], &v[1], st, pad, d)?, &dy)?, None, false)).map_err(e)?;
        let dot = |a: &[f32], b: &[f32]| -> f64 { a.iter().zip(b).map(|(&p, &q)| p as f64 * q as f64).sum() };
        let (uv, vv) = (rng.vec(xv.len(), -1.0, 1.0), rng.vec(fv.len(), -1.0, 1.0));
        let dot_ref = |a: &[f64], b: &[f32]| -> f64 { a.iter().zip(b).map(|(&p, &q)| p * q as f64).sum() };
        let want_x = dot_ref(&conv_ref(&uv, xs, &fv, fs, st, d, same, false).0, &dyv);
        let want_f = dot_ref(&conv_ref(&xv, xs, &vv, fs, st, d, same, false).0, &dyv);
        close(&format!("conv2d input gradient {xs:?} {fs:?}"), &[dot(&read(&g[0]).await?, &uv) as f32], &[want_x], 1e-3, 1e-4)?;
        close(&format!("conv2d filter gradient {xs:?} {fs:?}"), &[dot(&read(&g[1]).await?, &vv) as f32], &[want_f], 1e-3, 1e-4)?;
    }
    Ok(())
}

pub async fn gather_and_norms(dev: Device) -> CaseResult {
    let x = t(&dev, &(0..12).map(|v| v as f32).collect::<Vec<_>>(), &[3, 4])?;
    let rows = ops::gather(&x, &ti(&dev, &[2, 0, 2, 1], &[2, 2])?, 0).map_err(e)?;
    shape_is("gather rows", &rows, &[2, 2, 4])?;
    exact("gather rows", &read(&rows).await?, &[8.0, 9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 3.0, 8.0, 9.0, 10.0, 11.0, 4.0, 5.0, 6.0, 7.0])?;
    // Index 7 is out of range: an error on the CPU; on the GPU (where the indices are not on the
    // host) the kernel notes it, and the next readback fails naming it, once.
    match (&dev, ops::gather(&x, &ti(&dev, &[7, 0], &[2])?, 0)) {
        (Device::Cpu, Err(err)) if err.to_string().contains("out of range") => {}
        (Device::Cpu, other) => return Err(format!("gather out of range on the CPU: {:?}", other.map(|t| t.shape().to_vec()))),
        (_, Ok(t)) => {
            let later = ops::add(&t, &t).map_err(e)?;
            match read(&later).await {
                Err(err) if err.contains("gather") && err.contains("index 7") && err.contains("axis of 3") => {}
                other => return Err(format!("a readback after a gather out of range on the GPU: {other:?}")),
            }
            // Reported once; the tensors stay usable.
            exact("x after the failed readback", &read(&x).await?, &(0..12).map(|v| v as f32).collect::<Vec<_>>())?;
        }
        (_, Err(err)) => return Err(format!("gather out of range on the GPU: {err}")),
    }
    let cols = ops::gather(&x, &ti(&dev, &[3, 1], &[2])?, 1).map_err(e)?;
    exact("gather cols", &read(&cols).await?, &[3.0, 1.0, 7.0, 5.0, 11.0, 9.0])?;
    let ints = ops::gather(&ti(&dev, &[5, 6, 7], &[3])?, &ti(&dev, &[2, 2, 0], &[3])?, 0).map_err(e)?;
    same_i("gather int", &read_i(&ints).await?, &[7, 7, 5])?;
    let mut rng = Rng::new(23);
    let table = rng.vec(5 * 3, -1.0, 1.0);
    grad_check(&dev, "embedding (repeated ids accumulate)", &[(table, vec![5, 3])], &|v| {
        ops::embedding(&v[0], &Tensor::from_i32(v[0].device(), &[4, 1, 4, 0], &[2, 2])?)
    })
    .await?;
    let xv = rng.vec(2 * 3 * 4, -1.0, 1.0);
    let ln = read(&ops::layer_norm(&t(&dev, &xv, &[6, 4])?, None, None, 1e-5).map_err(e)?).await?;
    for r in 0..6 {
        let row = &ln[r * 4..r * 4 + 4];
        let m: f64 = row.iter().map(|&v| v as f64).sum::<f64>() / 4.0;
        let var: f64 = row.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / 4.0;
        if m.abs() > 1e-5 || (var - 1.0).abs() > 1e-3 {
            return Err(format!("layer_norm row {r}: mean {m}, var {var}"));
        }
    }
    grad_check(&dev, "layer_norm", &[(xv.clone(), vec![6, 4]), (rng.vec(4, 0.5, 1.5), vec![4]), (rng.vec(4, -0.5, 0.5), vec![4])], &|v| {
        ops::layer_norm(&v[0], Some(&v[1]), Some(&v[2]), 1e-3)
    })
    .await?;
    grad_check(&dev, "batch_norm with batch statistics", &[(xv, vec![2, 3, 4])], &|v| {
        let (m, var) = ops::moments(&v[0], &[0, 1], true)?;
        ops::batch_norm(&v[0], &m, &var, None, None, 1e-3)
    })
    .await?;
    Ok(())
}

/// A small conv net (conv 3x3 -> relu -> maxpool -> dense) learns to tell vertical from
/// horizontal bars in noisy 8x8 images: >= 95% training accuracy.
pub async fn conv_net_learns_bars(dev: Device) -> CaseResult {
    use webtensor::ops::Padding;
    use webtensor::optim::{Kind, Optimizer};
    let (n, side) = (64usize, 8usize);
    let mut rng = Rng::new(31);
    let mut images = vec![0f32; n * side * side];
    let mut labels = vec![0i32; n];
    for i in 0..n {
        let vertical = i % 2 == 0;
        labels[i] = vertical as i32;
        let at = (rng.next_f32() * 6.0) as usize + 1;
        for y in 0..side {
            for x in 0..side {
                let on = if vertical { x == at } else { y == at };
                images[(i * side + y) * side + x] = if on { 1.0 } else { 0.0 } + 0.3 * (rng.next_f32() - 0.5);
            }
        }
    }
    let x = t(&dev, &images, &[n, side, side, 1])?;
    let y = ti(&dev, &labels, &[n])?;
    let params = vec![
        ops::random_normal(&dev, &[3, 3, 1, 4], 0.0, 0.5, Some(3)).map_err(e)?,
        ops::zeros(&dev, &[4], DType::F32).map_err(e)?,
        ops::random_normal(&dev, &[4 * 4 * 4, 2], 0.0, 0.2, Some(4)).map_err(e)?,
        ops::zeros(&dev, &[2], DType::F32).map_err(e)?,
    ];
    for p in &params {
        p.set_requires_grad(true).map_err(e)?;
    }
    let forward = |x: &Tensor| -> webtensor::Result<Tensor> {
        let h = ops::relu(&ops::add(&ops::conv2d(x, &params[0], (1, 1), Padding::Same, (1, 1))?, &params[1])?)?;
        let p = ops::max_pool(&h, (2, 2), (2, 2), Padding::Valid)?;
        let flat = ops::reshape(&p, &[n as i64, -1])?;
        ops::add(&ops::matmul(&flat, &params[2], false, false)?, &params[3])
    };
    let mut opt = Optimizer::new(Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-7 }, 0.05);
    for _ in 0..60 {
        let loss = ops::sparse_softmax_cross_entropy(&y, &forward(&x).map_err(e)?).map_err(e)?;
        webtensor::autograd::backward(&loss).map_err(e)?;
        opt.step(&params).map_err(e)?;
    }
    let pred = webtensor::autograd::no_grad(|| ops::argmax(&forward(&x)?, -1)).map_err(e)?;
    let got = read_i(&pred).await?;
    let acc = got.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / n as f64;
    if acc < 0.95 {
        return Err(format!("conv net training accuracy {acc}, expected >= 0.95"));
    }
    Ok(())
}

/// All cases, by name, for runners that loop (the browser suite).
// ---------------------------------------------------------------------------------------------
// Fusion (src/fusion): elementwise ops are lazy and run as one kernel per chain

/// Compute dispatches recorded so far (None on the CPU backend).
fn dispatches(dev: &Device) -> Option<u64> {
    match dev {
        Device::Gpu(ctx) => Some(ctx.dispatches()),
        Device::Cpu => None,
    }
}

/// A long chain with broadcasting, int and bool operands, casts, comparisons and a select, against
/// the same computation in f64 written out here; then the same chain with each step realized on
/// its own (forced through a reshape round trip that a reduction reads), which must agree exactly.
pub async fn fused_chains_match_op_by_op(dev: Device) -> CaseResult {
    let mut rng = Rng::new(31);
    let (a, b) = (rng.vec(24, -2.0, 2.0), rng.vec(4, 0.5, 1.5));
    let ints: Vec<i32> = (0..6).map(|i| i - 2).collect();
    let ta = t(&dev, &a, &[6, 4])?;
    let tb = t(&dev, &b, &[4])?;
    let ti6 = ti(&dev, &ints, &[6, 1])?;
    let chain = |ta: &Tensor, tb: &Tensor, ti6: &Tensor| -> webtensor::Result<Tensor> {
        let x = ops::mul(&ops::add(ta, tb)?, &ops::cast(ti6, DType::F32)?)?; // [6,4] * [6,1]
        let y = ops::tanh(&ops::sub(&x, &ops::exp(&ops::neg(tb)?)?)?)?;
        let keep = ops::greater(&y, &ops::fill(ta.device(), &[], 0.1, DType::F32)?)?;
        let z = ops::where_(&keep, &ops::square(&y)?, &ops::leaky_relu(&y, 0.3)?)?;
        ops::add(&z, &ops::cast(&ops::maximum(ti6, &ti(ta.device(), &[0], &[]).map_err(|e| webtensor::Error::new("t", e))?)?, DType::F32)?)
    };
    let fused = read(&chain(&ta, &tb, &ti6).map_err(e)?).await?;
    let mut want = Vec::new();
    for r in 0..6 {
        for c in 0..4 {
            let x = (a[r * 4 + c] as f64 + b[c] as f64) * ints[r] as f64;
            let y = (x - (-(b[c] as f64)).exp()).tanh();
            let z = if y > 0.1 { y * y } else if y >= 0.0 { y } else { 0.3 * y };
            want.push(z + ints[r].max(0) as f64);
        }
    }
    close("fused chain", &fused, &want, 1e-5, 1e-6)?;
    // Op by op: every intermediate realized before the next op reads it.
    let stepwise = |x: webtensor::Result<Tensor>| -> webtensor::Result<Tensor> {
        let x = x?;
        ops::sum(&x, Some(&[]), false)
    };
    let realized = {
        let x = stepwise(ops::mul(&stepwise(ops::add(&ta, &tb)).map_err(e)?, &stepwise(ops::cast(&ti6, DType::F32)).map_err(e)?)).map_err(e)?;
        let y = stepwise(ops::tanh(&stepwise(ops::sub(&x, &stepwise(ops::exp(&stepwise(ops::neg(&tb)).map_err(e)?)).map_err(e)?)).map_err(e)?)).map_err(e)?;
        let keep = stepwise(ops::greater(&y, &ops::fill(&dev, &[], 0.1, DType::F32).map_err(e)?)).map_err(e)?;
        let z = stepwise(ops::where_(&keep, &stepwise(ops::square(&y)).map_err(e)?, &stepwise(ops::leaky_relu(&y, 0.3)).map_err(e)?)).map_err(e)?;
        let m = stepwise(ops::maximum(&ti6, &ti(&dev, &[0], &[])?)).map_err(e)?;
        ops::add(&z, &stepwise(ops::cast(&m, DType::F32)).map_err(e)?).map_err(e)?
    };
    let want32: Vec<f64> = read(&realized).await?.iter().map(|&v| v as f64).collect();
    close("fused vs op by op", &fused, &want32, 0.0, 0.0)?;
    // A pending tensor read again through a reshape, and per-row statistics read through a
    // broadcast (recomputed in place by the consumer).
    let rows = ops::add(&ops::log(&ops::sum(&ops::exp(&ta).map_err(e)?, Some(&[1]), true).map_err(e)?).map_err(e)?, &t(&dev, &[1.0], &[])?).map_err(e)?;
    let centred = ops::sub(&ta.reshape_to(&[24]).map_err(e)?.reshape_to(&[6, 4]).map_err(e)?, &rows).map_err(e)?;
    let got = read(&centred.reshape_to(&[4, 6]).map_err(e)?).await?;
    let mut want = Vec::new();
    for r in 0..6 {
        let lse = (0..4).map(|c| (a[r * 4 + c] as f64).exp()).sum::<f64>().ln() + 1.0;
        for c in 0..4 {
            want.push(a[r * 4 + c] as f64 - lse);
        }
    }
    close("per-row statistics", &got, &want, 1e-5, 1e-6)
}

/// On the GPU a chain of elementwise ops read back costs one dispatch; a pending result never read
/// costs none; a reduction of a chain reads it in place (one dispatch); the backward pass of a
/// unary op (gelu: ~16 dispatches before fusion) is one kernel.
pub async fn fusion_runs_one_kernel_per_chain(dev: Device) -> CaseResult {
    let Some(_) = dispatches(&dev) else { return Ok(()) };
    let x = t(&dev, &[0.5, -1.0, 2.0, 3.0], &[2, 2])?;
    let _ = read(&x).await?; // the upload is done
    let count = |what: &str, before: u64, want: u64| -> CaseResult {
        let got = dispatches(&dev).unwrap() - before;
        if got != want {
            return Err(format!("{what}: {got} dispatches, expected {want}"));
        }
        Ok(())
    };
    let before = dispatches(&dev).unwrap();
    let y = ops::sigmoid(&ops::mul(&ops::add(&ops::exp(&x).map_err(e)?, &x).map_err(e)?, &x).map_err(e)?).map_err(e)?;
    let _ = read(&y).await?;
    count("four elementwise ops", before, 1)?;
    let before = dispatches(&dev).unwrap();
    drop(ops::tanh(&ops::square(&x).map_err(e)?).map_err(e)?);
    count("a dropped pending result", before, 0)?;
    let before = dispatches(&dev).unwrap();
    let s = ops::sum(&ops::relu(&ops::add(&x, &x).map_err(e)?).map_err(e)?, None, false).map_err(e)?;
    let _ = read(&s).await?;
    count("sum of a chain", before, 1)?;
    let p = x.detach();
    p.set_requires_grad(true).map_err(e)?;
    let g = ops::gelu(&p).map_err(e)?;
    let loss = ops::sum(&g, None, false).map_err(e)?;
    let _ = read(&loss).await?;
    let before = dispatches(&dev).unwrap();
    webtensor::autograd::backward(&loss).map_err(e)?;
    let _ = read(&p.grad().unwrap()).await?;
    count("gelu's backward pass", before, 1)
}

/// Pending values are those of the moment their op was called, even when an input is then
/// overwritten in place (assign, an optimizer step).
pub async fn pending_values_survive_in_place_writes(dev: Device) -> CaseResult {
    let v = t(&dev, &[1.0, 2.0, 3.0], &[3])?;
    let doubled = ops::mul(&v, &t(&dev, &[2.0], &[])?).map_err(e)?;
    let shifted = ops::add(&doubled, &v).map_err(e)?;
    v.assign(&t(&dev, &[10.0, 20.0, 30.0], &[3])?).map_err(e)?;
    exact("pending after assign", &read(&shifted).await?, &[3.0, 6.0, 9.0])?;
    exact("the variable", &read(&v).await?, &[10.0, 20.0, 30.0])?;
    let w = t(&dev, &[1.0, -1.0], &[2])?;
    w.set_requires_grad(true).map_err(e)?;
    let reader = ops::square(&w).map_err(e)?;
    let loss = ops::sum(&ops::mul(&w, &w).map_err(e)?, None, false).map_err(e)?;
    webtensor::autograd::backward(&loss).map_err(e)?;
    let mut opt = webtensor::optim::Optimizer::new(webtensor::optim::Kind::Sgd, 0.25);
    opt.step(std::slice::from_ref(&w)).map_err(e)?;
    exact("pending after an optimizer step", &read(&reader).await?, &[1.0, 1.0])?;
    exact("the stepped weight", &read(&w).await?, &[0.5, -0.5])
}

/// A chain longer than one kernel takes (an accumulation loop) and an expression over more
/// tensors than one kernel binds are split into kernels that fit, with the same values.
pub async fn long_and_wide_expressions_split(dev: Device) -> CaseResult {
    let x = t(&dev, &[0.5, 1.0, 1.5], &[3])?;
    let mut acc = ops::zeros(&dev, &[3], DType::F32).map_err(e)?;
    for i in 0..300 {
        acc = ops::add(&ops::mul(&acc, &t(&dev, &[0.99], &[])?).map_err(e)?, &ops::mul(&x, &t(&dev, &[i as f32 * 1e-3], &[])?).map_err(e)?).map_err(e)?;
    }
    let mut want = [0f64; 3];
    for i in 0..300 {
        for (k, w) in want.iter_mut().enumerate() {
            *w = (*w as f32 * 0.99f32 + [0.5f32, 1.0, 1.5][k] * (i as f32 * 1e-3)) as f64;
        }
    }
    close("300-step accumulation", &read(&acc).await?, &want, 1e-5, 1e-6)?;
    let parts: Vec<Tensor> = (0..12).map(|k| t(&dev, &[k as f32, 1.0 + k as f32], &[2])).collect::<Result<_, _>>()?;
    let mut sum = ops::zeros(&dev, &[2], DType::F32).map_err(e)?;
    for p in &parts {
        sum = ops::add(&sum, &ops::square(p).map_err(e)?).map_err(e)?;
    }
    let want: Vec<f64> = [0, 1].iter().map(|&j| (0..12).map(|k| ((k + j) as f64).powi(2)).sum()).collect();
    close("sum over twelve tensors", &read(&sum).await?, &want, 0.0, 0.0)
}

/// log-sum-exp (and softmax built on it) at extreme logits: 1e9 and -1e9 in a row, a row of -inf
/// (its log-sum-exp is -inf), and a row longer than one pass of the reduction on the GPU.
pub async fn log_sum_exp_is_stable(dev: Device) -> CaseResult {
    let inf = f32::INFINITY;
    let x = t(&dev, &[1e9, -1e9, 1e9 - 64.0, -inf, -inf, -inf], &[2, 3])?;
    close("lse", &read(&ops::log_sum_exp(&x, -1, false).map_err(e)?).await?, &[1e9, f64::NEG_INFINITY], 1e-7, 0.0)?;
    close("softmax of 1e9 logits", &read(&ops::softmax(&x.slice_rows(0, 1)?, -1).map_err(e)?).await?, &[1.0, 0.0, 0.0], 0.0, 1e-7)?;
    let n = 20000;
    let long: Vec<f32> = (0..n).map(|i| (i % 100) as f32 * 0.1 + 1e4).collect();
    let want = 1e4 + (0..n).map(|i| ((i % 100) as f64 * 0.1).exp()).sum::<f64>().ln();
    close("long row", &read(&ops::log_sum_exp(&t(&dev, &long, &[1, n])?, -1, false).map_err(e)?).await?, &[want], 1e-6, 0.0)?;
    // 1000 equal logits far from zero: every probability 1/1000 (x - lse(x) in float32 lost the
    // log term: 3% off at 1e6, all ones at 1e9).
    for big in [1e6f32, 1e9] {
        let p = read(&ops::softmax(&t(&dev, &vec![big; 1000], &[1, 1000])?, -1).map_err(e)?).await?;
        close(&format!("softmax of 1000 logits of {big}"), &p, &vec![1e-3; 1000], 1e-5, 0.0)?;
    }
    Ok(())
}

/// Layer norm and RMS norm: values against an f64 reference on rows longer than a workgroup and
/// far from zero (the two-pass variance), a pending input (a residual add) read in place,
/// gradients against finite differences, and on the GPU one dispatch forward, two backward.
pub async fn layer_and_rms_norm_kernels(dev: Device) -> CaseResult {
    let mut rng = Rng::new(41);
    let (rows, c) = (3, 700);
    let a: Vec<f32> = rng.vec(rows * c, -1.0, 1.0).into_iter().map(|v| v + 1e4).collect();
    let b = rng.vec(rows * c, -0.5, 0.5);
    let (gv, bv) = (rng.vec(c, 0.5, 1.5), rng.vec(c, -0.5, 0.5));
    let (ta, tb) = (t(&dev, &a, &[rows, c])?, t(&dev, &b, &[rows, c])?);
    let (tg, tbeta) = (t(&dev, &gv, &[c])?, t(&dev, &bv, &[c])?);
    let x = ops::add(&ta, &tb).map_err(e)?; // pending: read in place by the kernel
    let ln = read(&ops::layer_norm(&x, Some(&tg), Some(&tbeta), 1e-5).map_err(e)?).await?;
    let rms = read(&ops::rms_norm(&x, Some(&tg), 1e-5).map_err(e)?).await?;
    let (mut want_ln, mut want_rms) = (Vec::new(), Vec::new());
    for r in 0..rows {
        let row: Vec<f64> = (0..c).map(|j| (a[r * c + j] + b[r * c + j]) as f64).collect();
        let mean = row.iter().sum::<f64>() / c as f64;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / c as f64;
        let ms = row.iter().map(|v| v * v).sum::<f64>() / c as f64;
        for j in 0..c {
            want_ln.push((row[j] - mean) / (var + 1e-5).sqrt() * gv[j] as f64 + bv[j] as f64);
            want_rms.push(row[j] / (ms + 1e-5).sqrt() * gv[j] as f64);
        }
    }
    // f32 inputs near 1e4 carry ~1e-3 of rounding before normalising (unit variance after).
    close("layer_norm rows of 700 near 1e4", &ln, &want_ln, 1e-3, 2e-3)?;
    close("rms_norm rows of 700", &rms, &want_rms, 1e-4, 1e-5)?;
    let small = rng.vec(4 * 6, -1.0, 1.0);
    grad_check(&dev, "rms_norm", &[(small.clone(), vec![4, 6]), (rng.vec(6, 0.5, 1.5), vec![6])], &|v| ops::rms_norm(&v[0], Some(&v[1]), 1e-3)).await?;
    grad_check(&dev, "layer_norm without gamma, beta", &[(small, vec![4, 6])], &|v| ops::layer_norm(&v[0], None, None, 1e-3)).await?;
    if let Some(before) = dispatches(&dev) {
        let (w, g, bb) = (ta.detach(), tg.detach(), tbeta.detach());
        for p in [&w, &g, &bb] {
            p.set_requires_grad(true).map_err(e)?;
        }
        let y = ops::layer_norm(&w, Some(&g), Some(&bb), 1e-5).map_err(e)?;
        let _ = read(&y).await?;
        let forward = dispatches(&dev).unwrap() - before;
        let dy = t(&dev, &rng.vec(rows * c, -1.0, 1.0), &[rows, c])?;
        let _ = read(&dy).await?;
        let before = dispatches(&dev).unwrap();
        let loss = ops::sum(&ops::mul(&y, &dy).map_err(e)?, None, false).map_err(e)?;
        let _ = read(&loss).await?;
        let before_backward = dispatches(&dev).unwrap();
        webtensor::autograd::backward(&loss).map_err(e)?;
        for p in [&w, &g, &bb] {
            let _ = read(&p.grad().unwrap()).await?;
        }
        let backward = dispatches(&dev).unwrap() - before_backward;
        let _ = before;
        if forward != 1 || backward != 2 {
            return Err(format!("layer_norm: {forward} dispatches forward, {backward} backward (expected 1 and 2)"));
        }
    }
    Ok(())
}

trait Rows {
    fn slice_rows(&self, start: usize, count: usize) -> Result<Tensor, String>;
}

impl Rows for Tensor {
    fn slice_rows(&self, start: usize, count: usize) -> Result<Tensor, String> {
        ops::slice(self, &[start, 0], &[count as i64, -1]).map_err(e)
    }
}

#[macro_export]
macro_rules! for_each_case {
    ($m:ident) => {
        $m!(
            binary_hand_values,
            unary_ops_vs_reference,
            binary_ops_vs_reference,
            int_and_bool_ops,
            where_and_cast,
            reductions_hand_values,
            reductions_vs_reference,
            matmul_hand_values,
            matmul_vs_reference,
            weights_kept_packed,
            layout_ops,
            fill_and_random,
            agrees_with_cpu_backend,
            large_elementwise,
            empty_tensors,
            bad_input_errors,
            pool_reuses_buffers,
            unary_gradients,
            binary_gradients,
            reduce_and_matmul_gradients,
            layout_gradients,
            composed_expression_gradient,
            second_order_gradients,
            softmax_and_losses,
            training_op_gradients,
            optimizer_steps,
            mlp_learns_xor,
            convolutions_vs_reference,
            pooling_hand_values,
            convolution_gradients,
            gather_and_norms,
            conv_net_learns_bars,
            fused_chains_match_op_by_op,
            fusion_runs_one_kernel_per_chain,
            pending_values_survive_in_place_writes,
            long_and_wide_expressions_split,
            log_sum_exp_is_stable,
            layer_and_rms_norm_kernels,
            attention_vs_reference,
            attention_errors,
            attention_over_a_cache,
            attention_at_sequence_edges,
            attention_gradients_over_blocks,
            rope_vs_reference,
            quantized_matmul_vs_reference,
            round_f16_is_a_cast_to_half,
            float16_storage_and_casts,
            float16_in_expressions_and_gradients,
            half_precision_weights_vs_reference
        );
    };
}

// ---------------------------------------------------------------------------------------------
// Attention (src/ops/attention.rs)

/// softmax(q k^T * scale + mask) v in f64, written out: q [b, h, sq, d], k [b, hkv, sk, d],
/// v [b, hkv, sk, dv], the mask given as a function of (batch, head, query, key). Scores at or
/// below -1e30 are not attended; a row with none attended is zeros; causal is bottom-right.
#[allow(clippy::too_many_arguments)]
fn attention_ref(q: &[f32], k: &[f32], v: &[f32], dims: [usize; 7], mask: &dyn Fn(usize, usize, usize, usize) -> f64, causal: bool, scale: f64) -> Vec<f64> {
    let [b, h, hkv, sq, sk, d, dv] = dims;
    let mut out = vec![0f64; b * h * sq * dv];
    for bi in 0..b {
        for hi in 0..h {
            let kv = bi * hkv + hi / (h / hkv);
            for i in 0..sq {
                let qrow = &q[((bi * h + hi) * sq + i) * d..][..d];
                let scores: Vec<Option<f64>> = (0..sk)
                    .map(|j| {
                        if causal && j as i64 > i as i64 + sk as i64 - sq as i64 {
                            return None;
                        }
                        let krow = &k[(kv * sk + j) * d..][..d];
                        let s = scale * qrow.iter().zip(krow).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>() + mask(bi, hi, i, j);
                        (s > -1e30).then_some(s)
                    })
                    .collect();
                let Some(m) = scores.iter().flatten().cloned().reduce(f64::max) else { continue };
                let total: f64 = scores.iter().flatten().map(|s| (s - m).exp()).sum();
                for (j, s) in scores.iter().enumerate() {
                    let Some(s) = s else { continue };
                    let w = (s - m).exp() / total;
                    for c in 0..dv {
                        out[((bi * h + hi) * sq + i) * dv + c] += w * v[(kv * sk + j) * dv + c] as f64;
                    }
                }
            }
        }
    }
    out
}

/// The attention op against the f64 reference: grouped-query heads, query and key lengths that
/// differ and are not multiples of the tiles, a float mask broadcast over heads, a bool mask over
/// keys, causal masking, scores near 1e4, rows masked entirely (zeros, and zero gradients, never
/// NaN), and gradients of q, k, v and a float mask against finite differences.
pub async fn attention_vs_reference(dev: Device) -> CaseResult {
    let mut rng = Rng::new(57);
    let (b, h, hkv, sq, sk, d, dv) = (2, 4, 2, 70, 37, 8, 5);
    let (qv, kv, vv) = (rng.vec(b * h * sq * d, -1.0, 1.0), rng.vec(b * hkv * sk * d, -1.0, 1.0), rng.vec(b * hkv * sk * dv, -1.0, 1.0));
    let q = t(&dev, &qv, &[b, h, sq, d])?;
    let k = t(&dev, &kv, &[b, hkv, sk, d])?;
    let v = t(&dev, &vv, &[b, hkv, sk, dv])?;
    let dims = [b, h, hkv, sq, sk, d, dv];
    let scale = 1.0 / (d as f64).sqrt();
    let no_mask = |_: usize, _: usize, _: usize, _: usize| 0.0;
    for causal in [false, true] {
        let got = read(&ops::attention(&q, &k, &v, None, causal, None).map_err(e)?).await?;
        close(&format!("attention causal={causal}"), &got, &attention_ref(&qv, &kv, &vv, dims, &no_mask, causal, scale), 1e-4, 1e-5)?;
    }
    // A float mask [b, 1, sq, sk] (broadcast over heads) with some -inf entries.
    let mv: Vec<f32> = rng.vec(b * sq * sk, -2.0, 2.0).into_iter().map(|x| if x > 1.6 { f32::NEG_INFINITY } else { x }).collect();
    let mask = t(&dev, &mv, &[b, 1, sq, sk])?;
    let mask_at = |bi: usize, _: usize, i: usize, j: usize| mv[(bi * sq + i) * sk + j] as f64;
    let got = read(&ops::attention(&q, &k, &v, Some(&mask), false, Some(0.5)).map_err(e)?).await?;
    close("attention with a float mask", &got, &attention_ref(&qv, &kv, &vv, dims, &mask_at, false, 0.5), 1e-4, 1e-5)?;
    // A bool mask over keys [b, 1, 1, sk]: batch 1 attends to no key at all.
    let keep: Vec<bool> = (0..b * sk).map(|e| e / sk == 0 && e % 3 != 1).collect();
    let bool_mask = Tensor::from_bool(&dev, &keep, &[b, 1, 1, sk]).map_err(e)?;
    let keep_at = |bi: usize, _: usize, _: usize, j: usize| if keep[bi * sk + j] { 0.0 } else { f64::NEG_INFINITY };
    let got = read(&ops::attention(&q, &k, &v, Some(&bool_mask), true, None).map_err(e)?).await?;
    close("attention with a bool mask, causal", &got, &attention_ref(&qv, &kv, &vv, dims, &keep_at, true, scale), 1e-4, 1e-5)?;
    if got[got.len() / 2..].iter().any(|&x| x != 0.0) {
        return Err("attention: rows with no attended key must be exactly zero".into());
    }
    // Scores of magnitude 1e4: the online softmax must not overflow.
    let big: Vec<f32> = qv.iter().map(|x| x * 300.0).collect();
    let got = read(&ops::attention(&t(&dev, &big, &[b, h, sq, d])?, &k, &v, None, false, None).map_err(e)?).await?;
    close("attention with scores near 1e4", &got, &attention_ref(&big, &kv, &vv, dims, &no_mask, false, scale), 1e-4, 1e-4)?;
    if got.iter().any(|x| !x.is_finite()) {
        return Err("attention with large scores: non-finite output".into());
    }
    // More keys than one CPU key block (256): key norms grow along the sequence, so later blocks
    // raise a row's running maximum; row 0's mask hides the whole second block.
    let (lh, lsq, lsk) = (2, 5, 600);
    let ldims = [1, lh, 1, lsq, lsk, d, dv];
    let lq = rng.vec(lh * lsq * d, -1.0, 1.0);
    let lk: Vec<f32> = rng.vec(lsk * d, -1.0, 1.0).iter().enumerate().map(|(e, x)| x * (1.0 + (e / d) as f32 / 60.0)).collect();
    let lv = rng.vec(lsk * dv, -1.0, 1.0);
    let lm: Vec<f32> = (0..lsq * lsk).map(|e| if e / lsk == 0 && (256..512).contains(&(e % lsk)) { f32::NEG_INFINITY } else { ((e * 7) % 5) as f32 * 0.3 }).collect();
    let (tq, tk, tv, tm) = (t(&dev, &lq, &[1, lh, lsq, d])?, t(&dev, &lk, &[1, 1, lsk, d])?, t(&dev, &lv, &[1, 1, lsk, dv])?, t(&dev, &lm, &[1, 1, lsq, lsk])?);
    let lmask_at = |_: usize, _: usize, i: usize, j: usize| lm[i * lsk + j] as f64;
    for causal in [false, true] {
        let got = read(&ops::attention(&tq, &tk, &tv, Some(&tm), causal, None).map_err(e)?).await?;
        close(&format!("attention over 600 keys, causal={causal}"), &got, &attention_ref(&lq, &lk, &lv, ldims, &lmask_at, causal, scale), 1e-4, 1e-5)?;
    }
    // Gradients: small shapes, a float mask that is trained too, causal with seq_q > seq_k (its
    // first rows see no key).
    let (b, h, hkv, sq, sk, d, dv) = (1, 2, 1, 4, 3, 3, 2);
    let inputs = [
        (rng.vec(b * h * sq * d, -1.0, 1.0), vec![b, h, sq, d]),
        (rng.vec(b * hkv * sk * d, -1.0, 1.0), vec![b, hkv, sk, d]),
        (rng.vec(b * hkv * sk * dv, -1.0, 1.0), vec![b, hkv, sk, dv]),
        (rng.vec(sq * sk, -1.0, 1.0), vec![1, 1, sq, sk]),
    ];
    grad_check(&dev, "attention", &inputs, &|v| ops::attention(&v[0], &v[1], &v[2], Some(&v[3]), false, None)).await?;
    grad_check(&dev, "attention, causal", &inputs[..3], &|v| ops::attention(&v[0], &v[1], &v[2], None, true, Some(0.7))).await?;
    // Fully masked rows: zero gradient, not NaN.
    let q = t(&dev, &inputs[0].0, &inputs[0].1)?;
    q.set_requires_grad(true).map_err(e)?;
    let none = Tensor::from_bool(&dev, &[false; 3], &[3]).map_err(e)?;
    let y = ops::attention(&q, &t(&dev, &inputs[1].0, &inputs[1].1)?, &t(&dev, &inputs[2].0, &inputs[2].1)?, Some(&none), false, None).map_err(e)?;
    webtensor::autograd::backward(&ops::sum(&y, None, false).map_err(e)?).map_err(e)?;
    let g = read(&q.grad().ok_or("attention: no gradient for q")?).await?;
    if g.iter().any(|&x| x != 0.0) {
        return Err(format!("attention with every key masked: gradient {g:?}, expected zeros"));
    }
    // One dispatch forward, two backward, on the GPU.
    if let Some(before) = dispatches(&dev) {
        let (q, k, v) = (t(&dev, &qv, &[2, 4, 70, 8])?, t(&dev, &kv, &[2, 2, 37, 8])?, t(&dev, &vv, &[2, 2, 37, 5])?);
        for x in [&q, &k, &v] {
            x.set_requires_grad(true).map_err(e)?;
        }
        let y = ops::attention(&q, &k, &v, None, true, None).map_err(e)?;
        let forward = dispatches(&dev).unwrap() - before;
        let loss = ops::sum(&y, None, false).map_err(e)?;
        read(&loss).await?;
        let before = dispatches(&dev).unwrap();
        webtensor::autograd::backward(&loss).map_err(e)?;
        for x in [&q, &k, &v] {
            read(&x.grad().ok_or("attention: missing gradient")?).await?;
        }
        let backward = dispatches(&dev).unwrap() - before;
        eprintln!("attention dispatches: forward {forward}, backward {backward}");
        if forward != 1 || backward > 3 {
            return Err(format!("attention: {forward} dispatches forward, {backward} backward (expected 1, and 2 plus the seed gradient)"));
        }
    }
    Ok(())
}

/// Bad calls name the op and the shapes.
pub async fn attention_errors(dev: Device) -> CaseResult {
    let z = |shape: &[usize]| t(&dev, &vec![0.0; shape.iter().product()], shape);
    let (q, k) = (z(&[1, 4, 2, 8])?, z(&[1, 3, 2, 8])?);
    let cases = [
        ("kv heads not dividing heads", ops::attention(&q, &k, &k, None, false, None).err()),
        ("rank 3 q", ops::attention(&z(&[4, 2, 8])?, &k, &k, None, false, None).err()),
        ("head sizes differ", ops::attention(&q, &z(&[1, 2, 2, 4])?, &z(&[1, 2, 2, 4])?, None, false, None).err()),
        ("mask not broadcasting", ops::attention(&q, &z(&[1, 2, 2, 8])?, &z(&[1, 2, 2, 8])?, Some(&z(&[3, 2])?), false, None).err()),
        ("NaN scale", ops::attention(&q, &z(&[1, 2, 2, 8])?, &z(&[1, 2, 2, 8])?, None, false, Some(f32::NAN)).err()),
    ];
    for (what, err) in cases {
        match err {
            Some(err) if err.to_string().contains("attention") => {}
            Some(err) => return Err(format!("{what}: error does not name the op: {err}")),
            None => return Err(format!("{what}: accepted")),
        }
    }
    Ok(())
}

/// A key/value cache: decoding steps appended in place with `assign_slice` into preallocated
/// buffers, and attention over their first kv_len keys, against the reference over exactly those
/// keys (bottom-right causal: each new query sees the past and itself). The gradients of k and v
/// are zero past kv_len.
pub async fn attention_over_a_cache(dev: Device) -> CaseResult {
    let mut rng = Rng::new(61);
    let (h, hkv, cap, d) = (4, 2, 10, 8);
    let kc = ops::zeros(&dev, &[1, hkv, cap, d], DType::F32).map_err(e)?;
    let vc = ops::zeros(&dev, &[1, hkv, cap, d], DType::F32).map_err(e)?;
    let (mut kh, mut vh) = (vec![0f32; hkv * cap * d], vec![0f32; hkv * cap * d]);
    let prefix = |x: &[f32], len: usize| (0..hkv).flat_map(|g| x[g * cap * d..(g * cap + len) * d].to_vec()).collect::<Vec<f32>>();
    let mut pos = 0;
    for len in [3, 1, 1, 2] {
        let (kn, vn, qn) = (rng.vec(hkv * len * d, -1.0, 1.0), rng.vec(hkv * len * d, -1.0, 1.0), rng.vec(h * len * d, -1.0, 1.0));
        kc.assign_slice(&t(&dev, &kn, &[1, hkv, len, d])?, &[0, 0, pos, 0]).map_err(e)?;
        vc.assign_slice(&t(&dev, &vn, &[1, hkv, len, d])?, &[0, 0, pos, 0]).map_err(e)?;
        for g in 0..hkv {
            kh[(g * cap + pos) * d..(g * cap + pos + len) * d].copy_from_slice(&kn[g * len * d..(g + 1) * len * d]);
            vh[(g * cap + pos) * d..(g * cap + pos + len) * d].copy_from_slice(&vn[g * len * d..(g + 1) * len * d]);
        }
        pos += len;
        let got = read(&ops::attention_prefix(&t(&dev, &qn, &[1, h, len, d])?, &kc, &vc, Some(pos), None, true, None).map_err(e)?).await?;
        let want = attention_ref(&qn, &prefix(&kh, pos), &prefix(&vh, pos), [1, h, hkv, len, pos, d, d], &|_, _, _, _| 0.0, true, 1.0 / (d as f64).sqrt());
        close(&format!("attention over a cache of {pos}"), &got, &want, 1e-4, 1e-5)?;
    }
    if kc.assign_slice(&t(&dev, &[0.0; 16], &[1, 1, 2, 8])?, &[0, 0, cap - 1, 0]).is_ok() {
        return Err("assign_slice past the end: accepted".into());
    }
    let inputs = [
        (rng.vec(2 * 2 * 3, -1.0, 1.0), vec![1, 2, 2, 3]),
        (rng.vec(2 * 4 * 3, -1.0, 1.0), vec![1, 2, 4, 3]),
        (rng.vec(2 * 4 * 2, -1.0, 1.0), vec![1, 2, 4, 2]),
    ];
    grad_check(&dev, "attention over the first 3 of 4 keys", &inputs, &|v| ops::attention_prefix(&v[0], &v[1], &v[2], Some(3), None, true, None)).await
}

/// One query row (a decoding step without a cache) and a 513-token self-attention (one past the
/// power of two every tiling divides: a ragged last block on every backend) against the f64
/// reference; and the fused op's peak device memory against the composition's: the 513 x 513
/// scores are never stored, while the composition holds them (and their softmax) at once.
pub async fn attention_at_sequence_edges(dev: Device) -> CaseResult {
    let mut rng = Rng::new(71);
    let scale = 1.0 / 8f64.sqrt();
    let none = |_: usize, _: usize, _: usize, _: usize| 0.0;
    for (h, hkv, sq, sk) in [(4, 2, 1, 300), (2, 1, 1, 1), (2, 2, 513, 513)] {
        let d = 8;
        let (qv, kv, vv) = (rng.vec(h * sq * d, -1.0, 1.0), rng.vec(hkv * sk * d, -1.0, 1.0), rng.vec(hkv * sk * d, -1.0, 1.0));
        let (q, k, v) = (t(&dev, &qv, &[1, h, sq, d])?, t(&dev, &kv, &[1, hkv, sk, d])?, t(&dev, &vv, &[1, hkv, sk, d])?);
        for causal in [false, true] {
            let got = read(&ops::attention(&q, &k, &v, None, causal, None).map_err(e)?).await?;
            let want = attention_ref(&qv, &kv, &vv, [1, h, hkv, sq, sk, d, d], &none, causal, scale);
            close(&format!("attention seq_q {sq}, seq_k {sk}, causal={causal}"), &got, &want, 1e-4, 1e-5)?;
        }
        if sq != 513 {
            continue;
        }
        let scores_bytes = (h * sq * sk * 4) as u64;
        let peak_of = |f: &dyn Fn() -> Result<Tensor, String>| {
            dev.reset_peak_bytes();
            let live = dev.tensor_bytes().0;
            f().map(|y| (y, live))
        };
        let (y, live) = peak_of(&|| ops::attention(&q, &k, &v, None, true, None).map_err(e))?;
        read(&y).await?;
        let fused = dev.tensor_bytes().1 - live;
        let (y, live) = peak_of(&|| {
            let s = ops::mul(&ops::matmul(&q, &k, false, true).map_err(e)?, &t(&dev, &[scale as f32], &[])?).map_err(e)?;
            ops::matmul(&ops::softmax(&s, -1).map_err(e)?, &v, false, false).map_err(e)
        })?;
        read(&y).await?;
        let composed = dev.tensor_bytes().1 - live;
        eprintln!("attention 2 x 513 x 513 peak bytes: fused {fused}, composed {composed}, scores {scores_bytes}");
        if fused * 4 > scores_bytes || composed < scores_bytes {
            return Err(format!("attention peak bytes: fused {fused}, composed {composed}; the scores take {scores_bytes}"));
        }
    }
    Ok(())
}

/// The fused gradients against the composition's (matmul, softmax, matmul, each with its own
/// gradient) on a shape of several CPU blocks: 70 query rows (two row blocks), 300 keys (two key
/// blocks), grouped-query heads (k and v sum two heads' parts), a float mask and causal masking.
pub async fn attention_gradients_over_blocks(dev: Device) -> CaseResult {
    let mut rng = Rng::new(67);
    let (h, sq, sk, d, dv) = (2, 70, 300, 5, 3);
    let scale = 0.6f32;
    let (qv, kv, vv) = (rng.vec(h * sq * d, -1.0, 1.0), rng.vec(sk * d, -1.0, 1.0), rng.vec(sk * dv, -1.0, 1.0));
    let mv = rng.vec(sq * sk, -1.0, 1.0);
    let wv = rng.vec(h * sq * dv, -1.0, 1.0);
    // Causal, bottom-right aligned: query i sees keys j <= i + sk - sq.
    let causal_mask: Vec<f32> = (0..sq * sk).map(|e| if e % sk > e / sk + sk - sq { f32::NEG_INFINITY } else { mv[e] }).collect();
    let mut grads = Vec::new();
    for fused in [true, false] {
        let (q, k, v) = (t(&dev, &qv, &[1, h, sq, d])?, t(&dev, &kv, &[1, 1, sk, d])?, t(&dev, &vv, &[1, 1, sk, dv])?);
        for x in [&q, &k, &v] {
            x.set_requires_grad(true).map_err(e)?;
        }
        let y = if fused {
            ops::attention(&q, &k, &v, Some(&t(&dev, &mv, &[1, 1, sq, sk])?), true, Some(scale)).map_err(e)?
        } else {
            let scores = ops::mul(&ops::matmul(&q, &k, false, true).map_err(e)?, &t(&dev, &[scale], &[])?).map_err(e)?;
            let probs = ops::softmax(&ops::add(&scores, &t(&dev, &causal_mask, &[1, 1, sq, sk])?).map_err(e)?, -1).map_err(e)?;
            ops::matmul(&probs, &v, false, false).map_err(e)?
        };
        let loss = ops::sum(&ops::mul(&y, &t(&dev, &wv, &[1, h, sq, dv])?).map_err(e)?, None, false).map_err(e)?;
        webtensor::autograd::backward(&loss).map_err(e)?;
        let mut got = Vec::new();
        for (name, x) in [("q", &q), ("k", &k), ("v", &v)] {
            got.push(read(&x.grad().ok_or(format!("attention: no gradient for {name}"))?).await?);
        }
        grads.push(got);
    }
    for (i, name) in ["q", "k", "v"].iter().enumerate() {
        let want: Vec<f64> = grads[1][i].iter().map(|&x| x as f64).collect();
        close(&format!("attention gradient of {name} over blocks, fused vs composed"), &grads[0][i], &want, 1e-3, 1e-5)?;
    }
    Ok(())
}

/// Rotary embeddings against rotations written out in f64, both pair layouts, a partial rotary
/// dimension and a table offset (a decoding position); gradients of x, cos and sin.
pub async fn rope_vs_reference(dev: Device) -> CaseResult {
    let (lead, seq, d, rot, table, offset) = (6, 5, 8, 6, 9, 2);
    let half = rot / 2;
    let mut rng = Rng::new(71);
    let xv = rng.vec(lead * seq * d, -1.0, 1.0);
    let angle = |pos: usize, j: usize| pos as f64 * 10000f64.powf(-2.0 * j as f64 / rot as f64);
    let cv: Vec<f32> = (0..table * half).map(|e| angle(e / half, e % half).cos() as f32).collect();
    let sv: Vec<f32> = (0..table * half).map(|e| angle(e / half, e % half).sin() as f32).collect();
    let (x, c, s) = (t(&dev, &xv, &[2, 3, seq, d])?, t(&dev, &cv, &[table, half])?, t(&dev, &sv, &[table, half])?);
    for interleaved in [false, true] {
        let mut want: Vec<f64> = xv.iter().map(|&v| v as f64).collect();
        for r in 0..lead * seq {
            let pos = offset + r % seq;
            for j in 0..half {
                let (ia, ib) = if interleaved { (2 * j, 2 * j + 1) } else { (j, j + half) };
                let (a, b) = (xv[r * d + ia] as f64, xv[r * d + ib] as f64);
                let (co, si) = (angle(pos, j).cos(), angle(pos, j).sin());
                want[r * d + ia] = a * co - b * si;
                want[r * d + ib] = a * si + b * co;
            }
        }
        let got = read(&ops::rope(&x, &c, &s, offset, interleaved).map_err(e)?).await?;
        close(&format!("rope (interleaved {interleaved})"), &got, &want, 1e-5, 1e-6)?;
    }
    if ops::rope(&x, &c, &s, table - seq + 1, false).is_ok() {
        return Err("rope past the end of the tables: accepted".into());
    }
    let inputs = [(rng.vec(2 * 3 * 4, -1.0, 1.0), vec![2, 3, 4]), (rng.vec(5 * 2, -1.0, 1.0), vec![5, 2]), (rng.vec(5 * 2, -1.0, 1.0), vec![5, 2])];
    for interleaved in [false, true] {
        grad_check(&dev, &format!("rope (interleaved {interleaved})"), &inputs, &move |v| ops::rope(&v[0], &v[1], &v[2], 1, interleaved)).await?;
    }
    Ok(())
}

/// Weight-only quantized matmul (src/ops/quantized_matmul.rs): 4- and 8-bit codes, symmetric and
/// affine, with k not a multiple of the block (a padded last block). Each dequantized value is
/// within half a step of the weight it stands for and is the same bits on every backend; the
/// product matches x times the dequantized weight in f64; dx matches central differences.
pub async fn quantized_matmul_vs_reference(dev: Device) -> CaseResult {
    use ops::QuantizedMatrix;
    // n = 70 crosses the CPU kernel's 64-column tiles; blocks of 8 to 128 codes take its vector
    // decoder whole, in halves, or not at all. k = 96 (whole words of codes, a partial last block
    // at 64) takes the GPU's vec4 kernel, k = 70 its scalar one.
    let mut rng = Rng::new(83);
    let cases = [(4, 32, true), (4, 16, false), (4, 8, false), (4, 64, true), (8, 16, true), (8, 128, false), (8, 12, true)];
    for (k, (bits, block, symmetric)) in cases.iter().map(|&c| (70, c)).chain([(96, (4, 64, false)), (96, (8, 64, true)), (96, (4, 32, true))]) {
        let n = 70;
        let wv = rng.vec(k * n, -2.0, 2.0);
        let what = format!("[{k}, {n}] in {bits}-bit blocks of {block} (symmetric {symmetric})");
        let w = QuantizedMatrix::quantize(&dev, &wv, k, n, bits, block, symmetric).map_err(e)?;
        let deq = read(&w.dequantize().map_err(e)?).await?;
        let on_cpu = QuantizedMatrix::quantize(&Device::Cpu, &wv, k, n, bits, block, symmetric).map_err(e)?;
        if deq.iter().map(|v| v.to_bits()).ne(read(&on_cpu.dequantize().map_err(e)?).await?.iter().map(|v| v.to_bits())) {
            return Err(format!("{what}: dequantized values differ from the CPU backend's"));
        }
        let scales = read(&w.scales).await?;
        for (i, (&q, &v)) in deq.iter().zip(&wv).enumerate() {
            let step = scales[(i % n) * k.div_ceil(block) + (i / n) / block];
            if (q - v).abs() > step * 0.5001 + 1e-6 {
                return Err(format!("{what}: weight {i} is {v}, dequantized {q} (step {step})"));
            }
        }
        // Quantized where the weight lives (a kernel on the GPU): the same codes but for values a
        // rounding boundary apart (WGSL's division is not exactly IEEE), each within half a step.
        let here = QuantizedMatrix::from_tensor(&t(&dev, &wv, &[k, n])?, bits, block, symmetric).map_err(e)?;
        let deq_here = read(&here.dequantize().map_err(e)?).await?;
        let same = deq_here.iter().zip(&deq).filter(|(a, b)| a.to_bits() == b.to_bits()).count();
        if same * 100 < deq.len() * 99 {
            return Err(format!("{what}: quantized on the device, {same} of {} values as on the host", deq.len()));
        }
        let scales_here = read(&here.scales).await?;
        for (i, (&q, &v)) in deq_here.iter().zip(&wv).enumerate() {
            let step = scales_here[(i % n) * k.div_ceil(block) + (i / n) / block];
            if (q - v).abs() > step * 0.5001 + 1e-6 {
                return Err(format!("{what}: quantized on the device, weight {i} is {v}, dequantized {q} (step {step})"));
            }
        }
        let expected_words = n * k.div_ceil(block) * block * bits / 32;
        if w.codes.numel() != expected_words {
            return Err(format!("{what}: {} words of codes, expected {expected_words}", w.codes.numel()));
        }
        // 20 rows: the GPU's tiled GEMM over a dequantized slab of columns.
        for lead in [vec![1], vec![5], vec![2, 3], vec![20]] {
            let rows: usize = lead.iter().product();
            let xv = rng.vec(rows * k, -1.0, 1.0);
            let mut shape = lead.clone();
            shape.push(k);
            let y = ops::quantized_matmul(&t(&dev, &xv, &shape)?, &w).map_err(e)?;
            let mut want_shape = lead.clone();
            want_shape.push(n);
            if y.shape() != want_shape.as_slice() {
                return Err(format!("{what}: shape {:?}, expected {want_shape:?}", y.shape()));
            }
            let want: Vec<f64> = (0..rows * n).map(|o| (0..k).map(|j| xv[(o / n) * k + j] as f64 * deq[j * n + o % n] as f64).sum()).collect();
            close(&format!("{what}: x {shape:?}"), &read(&y).await?, &want, 1e-5, 1e-5)?;
        }
    }
    // As an embedding table: columns of W by id, dequantized; an id out of range is an error on
    // the CPU (zeros on the GPU, which cannot fail a kernel).
    let table = QuantizedMatrix::quantize(&dev, &rng.vec(64 * 9, -1.0, 1.0), 64, 9, 4, 32, false).map_err(e)?;
    let deq = read(&table.dequantize().map_err(e)?).await?;
    let ids = [3, 0, 8, 3, 5, 1];
    let rows = table.embedding(&ti(&dev, &ids, &[2, 3])?).map_err(e)?;
    if rows.shape() != [2, 3, 64] {
        return Err(format!("embedding of [2, 3] ids: shape {:?}", rows.shape()));
    }
    let want: Vec<f64> = ids.iter().flat_map(|&id| (0..64).map(|kk| deq[kk * 9 + id as usize] as f64).collect::<Vec<_>>()).collect();
    close("quantized embedding", &read(&rows).await?, &want, 0.0, 0.0)?;
    if matches!(dev, Device::Cpu) && table.embedding(&ti(&dev, &[9], &[1])?).is_ok() {
        return Err("quantized embedding of id 9 in a table of 9: accepted".into());
    }
    // A weight of 2048 x 1100 at 16 rows: on the GPU, two slabs of columns (1024 and 76), each
    // dequantized and multiplied in turn.
    {
        let (k, n, rows) = (2048, 1100, 16);
        let w = QuantizedMatrix::quantize(&dev, &rng.vec(k * n, -1.0, 1.0), k, n, 8, 64, false).map_err(e)?;
        let deq = read(&w.dequantize().map_err(e)?).await?;
        let xv = rng.vec(rows * k, -1.0, 1.0);
        let y = read(&ops::quantized_matmul(&t(&dev, &xv, &[rows, k])?, &w).map_err(e)?).await?;
        let want: Vec<f64> = (0..rows * n).map(|o| (0..k).map(|j| xv[(o / n) * k + j] as f64 * deq[j * n + o % n] as f64).sum()).collect();
        close("a [2048, 1100] 8-bit weight at 16 rows", &y, &want, 1e-4, 1e-4)?;
        // x's gradient through the same slabs: d sum(y c) / dx = c W^T.
        let x = t(&dev, &xv, &[rows, k])?;
        x.set_requires_grad(true).map_err(e)?;
        let cv = rng.vec(rows * n, -1.0, 1.0);
        let y = ops::quantized_matmul(&x, &w).map_err(e)?;
        let loss = ops::reduce(ops::Reduce::Sum, &ops::mul(&y, &t(&dev, &cv, &[rows, n])?).map_err(e)?, None, false).map_err(e)?;
        webtensor::autograd::backward(&loss).map_err(e)?;
        let dx = read(&x.grad().ok_or("no gradient for x")?).await?;
        let want: Vec<f64> = (0..rows * k).map(|o| (0..n).map(|c| cv[(o / k) * n + c] as f64 * deq[(o % k) * n + c] as f64).sum()).collect();
        close("the gradient through a [2048, 1100] 8-bit weight at 16 rows", &dx, &want, 1e-4, 1e-4)?;
    }
    // Integer products (MatMulInteger's packing: one 8-bit block a column, scales 1, a zero point
    // per column): exact int32 sums, with k odd and m, n past whole 4 x 8 tiles.
    let (ik, i_n, im) = (37, 11, 6);
    let block = 40;
    let code_at = |c: usize, kk: usize| ((c * 131 + kk * 71) % 256) as u32;
    let mut words = vec![0u32; i_n * block / 4];
    for c in 0..i_n {
        for kk in 0..ik {
            words[(c * block + kk) / 4] |= code_at(c, kk) << (8 * ((c * block + kk) % 4));
        }
    }
    let zeros: Vec<f32> = (0..i_n).map(|c| ((c * 37) % 256) as f32).collect();
    let iw = QuantizedMatrix::new(
        Tensor::from_words(&dev, words, &[i_n, 1, block / 4], DType::I32).map_err(e)?,
        ops::ones(&dev, &[i_n, 1], DType::F32).map_err(e)?,
        Some(t(&dev, &zeros, &[i_n, 1])?),
        8,
        block,
        ik,
        i_n,
    )
    .map_err(e)?;
    // A signed (its zero point already subtracted), or uint8 codes with a zero point of 77.
    let signed: Vec<i32> = (0..im * ik).map(|i| ((i * 97) % 511) as i32 - 255).collect();
    let codes: Vec<i32> = (0..im * ik).map(|i| ((i * 53) % 256) as i32).collect();
    for (a, a_zero) in [(&signed, 0), (&codes, 77)] {
        for rows in [im, 2] {
            let zero_t = ti(&dev, &[a_zero], &[])?;
            let got = read_i(&ops::quantized_matmul_integer(&ti(&dev, &a[..rows * ik], &[rows, ik])?, (a_zero != 0).then_some(&zero_t), &iw).map_err(e)?).await?;
            let want: Vec<i32> = (0..rows * i_n).map(|o| (0..ik).map(|kk| (a[(o / i_n) * ik + kk] - a_zero) * (code_at(o % i_n, kk) as i32 - zeros[o % i_n] as i32)).sum()).collect();
            if got != want {
                return Err(format!("integer product of {rows} rows (A's zero point {a_zero}): {got:?}, expected {want:?}"));
            }
        }
    }
    let (wk, wn) = (20, 3);
    let small = rng.vec(wk * wn, -1.0, 1.0);
    let xs = rng.vec(2 * wk, -1.0, 1.0);
    for symmetric in [true, false] {
        let small = small.clone();
        grad_check(&dev, &format!("quantized_matmul (symmetric {symmetric})"), &[(xs.clone(), vec![2, wk])], &move |v| {
            ops::quantized_matmul(&v[0], &QuantizedMatrix::quantize(v[0].device(), &small, wk, wn, 4, 8, symmetric)?)
        })
        .await?;
    }
    let w = QuantizedMatrix::quantize(&dev, &small, wk, wn, 4, 8, true).map_err(e)?;
    if ops::quantized_matmul(&t(&dev, &xs, &[wk, 2])?, &w).is_ok() {
        return Err("quantized_matmul of x [20, 2] with a [20, 3] weight: accepted".into());
    }
    if QuantizedMatrix::quantize(&dev, &small, wk, wn, 3, 32, true).is_ok() || QuantizedMatrix::quantize(&dev, &small, wk, wn, 4, 4, true).is_ok() {
        return Err("3-bit codes, or 4-bit blocks of 4 (half a word): accepted".into());
    }
    if QuantizedMatrix::new(w.codes.clone(), w.scales.clone(), None, 4, 8, wk + 8, wn).is_ok() {
        return Err("codes of a [20, 3] weight taken for [28, 3]: accepted".into());
    }
    Ok(())
}

/// round_f16 (ONNX's Cast to float16) gives the bits of the `half` crate's f32 -> f16 -> f32 on
/// every backend: ties to even, overflow at 65520, subnormals, signed zeros, NaN and infinities.
pub async fn round_f16_is_a_cast_to_half(dev: Device) -> CaseResult {
    let tiny = 2f32.powi(-24);
    let mut xs = vec![
        0.0, -0.0, 1.0, 1.0 + 2f32.powi(-11), 1.0 + 3.0 * 2f32.powi(-11), 65504.0, 65519.99, 65520.0, -65520.0, 1e9, 6.1e-5, 6.0e-5,
        1.5 * tiny, 2.5 * tiny, 0.49 * tiny, 0.5 * tiny, 1e-10, -3.3e-6, 1.0 / 3.0, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN_POSITIVE,
    ];
    let mut rng = Rng::new(17);
    for e in -30..18 {
        xs.extend(rng.vec(8, -1.0, 1.0).iter().map(|v| v * 2f32.powi(e)));
    }
    let want: Vec<u32> = xs.iter().map(|&x| half::f16::from_f32(x).to_f32().to_bits()).collect();
    let got = read(&ops::unary(ops::UnaryOp::RoundF16, &t(&dev, &xs, &[xs.len()])?, 0.0, 0.0).map_err(e)?).await?;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g.to_bits() != *w {
            return Err(format!("round_f16({:e}) = {g:e}, expected {:e}", xs[i], f32::from_bits(*w)));
        }
    }
    let nan = read(&ops::unary(ops::UnaryOp::RoundF16, &t(&dev, &[f32::NAN], &[1])?, 0.0, 0.0).map_err(e)?).await?;
    if !nan[0].is_nan() {
        return Err(format!("round_f16(NaN) = {}", nan[0]));
    }
    Ok(())
}

/// An error WebGPU reports (here a kernel that fails validation) fails the next readback with it,
/// instead of letting values computed past it pass; the readback after that works again.
pub async fn gpu_errors_fail_the_next_readback(dev: Device) -> CaseResult {
    let Device::Gpu(ctx) = &dev else { return Ok(()) };
    let x = t(&dev, &[1.0, 2.0], &[2])?;
    read(&x).await?;
    let bad = ctx.kernel("test:invalid", || "@compute @workgroup_size(1) fn main() { let a: u32 = 1.5; }".to_string());
    ctx.dispatch(&bad, &[0u8; 16], &[], [1, 1, 1]);
    match read(&ops::add(&x, &x).map_err(e)?).await {
        Err(msg) if msg.contains("GPU reported an error") => {}
        Err(msg) => return Err(format!("readback after an invalid kernel: unexpected error {msg}")),
        Ok(v) => return Err(format!("readback after an invalid kernel succeeded with {v:?}")),
    }
    close("readback after the reported error", &read(&ops::add(&x, &x).map_err(e)?).await?, &[2.0, 4.0], 0.0, 0.0)
}

// ---------------------------------------------------------------------------------------------
// float16 (src/dtype.rs, src/ops/cast.rs, src/fusion): stored two halves a word, computed in
// float32.

fn round_half(x: f32) -> f32 {
    half::f16::from_f32(x).to_f32()
}

/// Casts to float16 round as the `half` crate does (ties to even, overflow to infinity,
/// subnormals), store two halves a word (an odd count included, across CPU blocks and GPU
/// workgroups), read back widened, and cast on to int32 and bool; int32 and bool cast to it.
pub async fn float16_storage_and_casts(dev: Device) -> CaseResult {
    let tiny = 2f32.powi(-24);
    let mut xs = vec![0.0, -0.0, 1.0, 1.0 + 2f32.powi(-11), 65504.0, 65519.99, 65520.0, -1e9, 1.5 * tiny, 0.49 * tiny, -3.3e-6, f32::INFINITY, f32::NEG_INFINITY];
    let mut rng = Rng::new(23);
    for ex in -26..17 {
        xs.extend(rng.vec(30, -1.0, 1.0).iter().map(|v| v * 2f32.powi(ex)));
    }
    assert!(xs.len() % 2 == 1 && xs.len() > 1300);
    let n = xs.len();
    let x16 = ops::cast(&t(&dev, &xs, &[n])?, DType::F16).map_err(e)?;
    if x16.dtype() != DType::F16 || x16.size_bytes() != n.div_ceil(2) * 4 {
        return Err(format!("cast to float16: dtype {} and {} bytes, expected float16 and {}", x16.dtype(), x16.size_bytes(), n.div_ceil(2) * 4));
    }
    let words = x16.to_words().await.map_err(e)?;
    let want_words: Vec<u32> = webtensor::dtype::pack_halves(&xs);
    if let Some(i) = (0..words.len()).find(|&i| words[i] != want_words[i]) {
        return Err(format!("cast to float16: word {i} is {:#010x}, expected {:#010x} (values {:e}, {:e})", words[i], want_words[i], xs[2 * i], xs.get(2 * i + 1).copied().unwrap_or(0.0)));
    }
    let got = read(&x16).await?;
    for (i, &x) in xs.iter().enumerate() {
        if got[i].to_bits() != round_half(x).to_bits() {
            return Err(format!("float16 read back: {:e} gave {:e}, expected {:e}", x, got[i], round_half(x)));
        }
    }
    // Uploaded halves read the same as cast ones; widened to float32 they are exact.
    let uploaded = Tensor::from_f32_as_f16(&dev, &xs, &[n]).map_err(e)?;
    let wide = read(&ops::cast(&uploaded, DType::F32).map_err(e)?).await?;
    if (0..n).any(|i| wide[i].to_bits() != got[i].to_bits()) {
        return Err("float16 tensor made from values and widened: differs from the cast".into());
    }
    let nan = read(&ops::cast(&t(&dev, &[f32::NAN, 2.0, f32::NAN], &[3])?, DType::F16).map_err(e)?).await?;
    if !(nan[0].is_nan() && nan[1] == 2.0 && nan[2].is_nan()) {
        return Err(format!("float16 of [NaN, 2, NaN] reads {nan:?}"));
    }
    // To and from int32 and bool.
    let ints = ti(&dev, &[2049, -3, 0, 70000, 7], &[5])?;
    close("int32 -> float16", &read(&ops::cast(&ints, DType::F16).map_err(e)?).await?, &[2048.0, -3.0, 0.0, f64::INFINITY, 7.0], 0.0, 0.0)?;
    let h = Tensor::from_f32_as_f16(&dev, &[2.7, -2.7, 0.0, 0.3, 1e5], &[5]).map_err(e)?;
    let as_int = read_i(&ops::cast(&h, DType::I32).map_err(e)?).await?;
    if as_int[..4] != [2, -2, 0, 0] {
        return Err(format!("float16 -> int32 gave {as_int:?}"));
    }
    let as_bool = read_i(&ops::cast(&h, DType::Bool).map_err(e)?).await?;
    if as_bool != [1, 1, 0, 1, 1] {
        return Err(format!("float16 -> bool gave {as_bool:?}"));
    }
    let flags = Tensor::from_bool(&dev, &[true, false, true], &[3]).map_err(e)?;
    close("bool -> float16", &read(&ops::cast(&flags, DType::F16).map_err(e)?).await?, &[1.0, 0.0, 1.0], 0.0, 0.0)?;
    Ok(())
}

/// Elementwise work reads halves widened through every broadcast pattern and rounds once where
/// it stores float16, whether or not the half operand was realized first (so results do not
/// depend on fusion); gradients cross casts; ops that read 32-bit elements refuse float16 with
/// an error and leave it usable.
pub async fn float16_in_expressions_and_gradients(dev: Device) -> CaseResult {
    let mut rng = Rng::new(29);
    let (av, bv, cv, dv) = (rng.vec(30, -3.0, 3.0), rng.vec(5, -3.0, 3.0), rng.vec(3, -3.0, 3.0), rng.vec(10, -3.0, 3.0));
    let h = |v: &[f32], shape: &[usize]| Tensor::from_f32_as_f16(&dev, v, shape).map_err(e);
    let (a, b, c, d) = (h(&av, &[2, 3, 5])?, h(&bv, &[5])?, h(&cv, &[3, 1])?, h(&dv, &[2, 1, 5])?);
    let r = |v: &[f32]| v.iter().map(|&x| round_half(x)).collect::<Vec<f32>>();
    let (ra, rb, rc, rd) = (r(&av), r(&bv), r(&cv), r(&dv));
    // a * b + c - d: a read in place, b along the last axis, c per row of 5, d strided.
    let y = ops::sub(&ops::add(&ops::mul(&a, &b).map_err(e)?, &c).map_err(e)?, &d).map_err(e)?;
    if y.dtype() != DType::F32 {
        return Err(format!("float16 arithmetic computes in float32: got {}", y.dtype()));
    }
    let want: Vec<f32> = (0..30).map(|i| ra[i] * rb[i % 5] + rc[(i / 5) % 3] - rd[(i / 15) * 5 + i % 5]).collect();
    let got = read(&y).await?;
    close("float16 a*b+c-d", &got, &want.iter().map(|&v| v as f64).collect::<Vec<_>>(), 1e-6, 1e-6)?;
    let broadcast_scalar = read(&ops::mul(&a, &h(&[0.1], &[])?).map_err(e)?).await?;
    close("float16 times a float16 scalar", &broadcast_scalar, &ra.iter().map(|&v| (v * round_half(0.1)) as f64).collect::<Vec<_>>(), 1e-6, 0.0)?;
    // A float16 result rounds where it is stored, and reads the same pending or realized.
    let e16 = ops::cast(&ops::exp(&a).map_err(e)?, DType::F16).map_err(e)?;
    let twice_pending = read(&ops::mul(&e16, &e16).map_err(e)?).await?;
    e16.to_words().await.map_err(e)?;
    let twice_realized = read(&ops::mul(&e16, &e16).map_err(e)?).await?;
    let want: Vec<f32> = ra.iter().map(|&x| round_half(x.exp())).map(|v| v * v).collect();
    for i in 0..30 {
        if (twice_pending[i] - want[i]).abs() > 1e-6 * want[i].abs() || twice_realized[i].to_bits() != twice_pending[i].to_bits() {
            return Err(format!("exp(a) stored as float16, squared: element {i} is {} pending, {} realized; expected {}", twice_pending[i], twice_realized[i], want[i]));
        }
    }
    // Gradients through casts: a float32 leaf through float16, and a float16 leaf.
    let x = t(&dev, &av, &[30])?;
    x.set_requires_grad(true).map_err(e)?;
    let x16 = ops::cast(&x, DType::F16).map_err(e)?;
    let loss = ops::sum(&ops::mul(&ops::cast(&x16, DType::F32).map_err(e)?, &t(&dev, &[3.0], &[])?).map_err(e)?, None, false).map_err(e)?;
    webtensor::autograd::backward(&loss).map_err(e)?;
    let g = x.grad().ok_or("no gradient through a float16 cast")?;
    close("d sum(3 f16(x)) / dx", &read(&g).await?, &[3.0; 30], 0.0, 0.0)?;
    let w16 = h(&av, &[30])?;
    w16.set_requires_grad(true).map_err(e)?;
    let w = ops::cast(&w16, DType::F32).map_err(e)?;
    let loss = ops::sum(&ops::mul(&w, &w).map_err(e)?, None, false).map_err(e)?;
    webtensor::autograd::backward(&loss).map_err(e)?;
    let g = w16.grad().ok_or("no gradient for a float16 leaf")?;
    if g.dtype() != DType::F16 {
        return Err(format!("a float16 leaf's gradient is {}", g.dtype()));
    }
    close("d sum(w^2) / dw for float16 w", &read(&g).await?, &ra.iter().map(|&v| round_half(2.0 * v) as f64).collect::<Vec<_>>(), 0.0, 0.0)?;
    // matmul widens its operands (as it does ints) and computes in float32.
    let p = read(&ops::matmul(&h(&av[..6], &[2, 3])?, &h(&av[6..12], &[3, 2])?, false, false).map_err(e)?).await?;
    let want: Vec<f64> = (0..4).map(|ij| (0..3).map(|k| ra[(ij / 2) * 3 + k] as f64 * ra[6 + k * 2 + ij % 2] as f64).sum()).collect();
    close("float16 matmul", &p, &want, 1e-6, 1e-6)?;
    // Reductions (and what is built of them) read halves widened, realized or pending, in f32.
    let sum = ops::sum(&a, Some(&[2]), false).map_err(e)?;
    let want: Vec<f64> = (0..6).map(|r| (0..5).map(|k| ra[r * 5 + k] as f64).sum()).collect();
    close("sum of a realized float16", &read(&sum).await?, &want, 1e-6, 1e-6)?;
    let neg16 = ops::cast(&ops::neg(&a).map_err(e)?, DType::F16).map_err(e)?;
    let want: Vec<f64> = (0..6).map(|r| (0..5).map(|k| -ra[r * 5 + k] as f64).sum()).collect();
    close("sum of a pending float16", &read(&ops::sum(&neg16, Some(&[2]), false).map_err(e)?).await?, &want, 1e-6, 1e-6)?;
    let sm = read(&ops::softmax(&neg16, -1).map_err(e)?).await?;
    let want: Vec<f64> = (0..30)
        .map(|i| {
            let row = &ra[(i / 5) * 5..(i / 5) * 5 + 5];
            (-ra[i] as f64).exp() / row.iter().map(|&v| (-v as f64).exp()).sum::<f64>()
        })
        .collect();
    close("softmax of a pending float16", &sm, &want, 1e-5, 1e-7)?;
    // Ops that read 32-bit elements as they lie refuse halves, and leave them usable.
    for (what, r) in [
        ("transpose", ops::transpose(&a, None).map(|_| ())),
        ("transpose of a pending float16", ops::transpose(&neg16, None).map(|_| ())),
        ("layer_norm", ops::layer_norm(&a, None, None, 1e-5).map(|_| ())),
    ] {
        match r {
            Err(err) if err.to_string().contains("float16") => {}
            Err(err) => return Err(format!("{what} on float16: error without naming float16: {err}")),
            Ok(()) => return Err(format!("{what} on float16 was accepted (it would read packed halves as floats)")),
        }
    }
    close("float16 still readable after refusals", &read(&a).await?, &ra.iter().map(|&v| v as f64).collect::<Vec<_>>(), 0.0, 0.0)?;
    Ok(())
}

/// A float16 weight held as half-precision codes (`QuantizedMatrix::from_halves`, as ONNX float16
/// MatMul weights load): half of float32's bytes; dequantizes to exactly the halves; products for
/// a decoding step, a few rows and a prompt (the GPU's slabs), x's gradient and the embedding
/// lookup match float64 over the half values, at odd and even k.
pub async fn half_precision_weights_vs_reference(dev: Device) -> CaseResult {
    use ops::QuantizedMatrix;
    let mut rng = Rng::new(91);
    for (k, n) in [(37, 70), (64, 9)] {
        let wv: Vec<f32> = rng.vec(k * n, -3.0, 3.0).iter().map(|v| v * 10f32.powi(rng.vec(1, -2.0, 2.0)[0] as i32)).collect();
        let bits: Vec<u16> = wv.iter().map(|&v| half::f16::from_f32(v).to_bits()).collect();
        let halves: Vec<f32> = bits.iter().map(|&b| half::f16::from_bits(b).to_f32()).collect();
        let what = format!("half-precision [{k}, {n}]");
        let w = QuantizedMatrix::from_halves(&dev, &bits, k, n).map_err(e)?;
        if w.size_bytes() != n * k.next_multiple_of(2) * 2 + n * 4 {
            return Err(format!("{what}: {} bytes on the device, expected the halves and a scale a column", w.size_bytes()));
        }
        let deq = read(&w.dequantize().map_err(e)?).await?;
        if let Some(i) = (0..k * n).find(|&i| deq[i].to_bits() != halves[i].to_bits()) {
            return Err(format!("{what}: weight {i} dequantizes to {}, the half is {}", deq[i], halves[i]));
        }
        // The same weight given as W^T [n, k] (an embedding table, a Gemm's transB weight).
        let table: Vec<u16> = (0..n * k).map(|i| bits[(i % k) * n + i / k]).collect();
        let from_rows = read(&QuantizedMatrix::from_half_rows(&dev, &table, n, k).map_err(e)?.dequantize().map_err(e)?).await?;
        if from_rows.iter().zip(&deq).any(|(a, b)| a.to_bits() != b.to_bits()) {
            return Err(format!("{what}: given as rows, dequantizes differently"));
        }
        for rows in [1, 3, 20] {
            let xv = rng.vec(rows * k, -1.0, 1.0);
            let x = t(&dev, &xv, &[rows, k])?;
            x.set_requires_grad(true).map_err(e)?;
            let y = ops::quantized_matmul(&x, &w).map_err(e)?;
            let want: Vec<f64> = (0..rows * n).map(|o| (0..k).map(|j| xv[(o / n) * k + j] as f64 * halves[j * n + o % n] as f64).sum()).collect();
            close(&format!("{what}: x [{rows}, {k}]"), &read(&y).await?, &want, 1e-5, 1e-4)?;
            let dyv = rng.vec(rows * n, -1.0, 1.0);
            let loss = ops::sum(&ops::mul(&y, &t(&dev, &dyv, &[rows, n])?).map_err(e)?, None, false).map_err(e)?;
            webtensor::autograd::backward(&loss).map_err(e)?;
            let want: Vec<f64> = (0..rows * k).map(|o| (0..n).map(|j| dyv[(o / k) * n + j] as f64 * halves[(o % k) * n + j] as f64).sum()).collect();
            close(&format!("{what}: dx for [{rows}, {k}]"), &read(&x.grad().ok_or("no gradient for x")?).await?, &want, 1e-5, 1e-4)?;
        }
        let ids = ti(&dev, &[2, 0, (n - 1) as i32], &[3])?;
        let rows = read(&w.embedding(&ids).map_err(e)?).await?;
        let want: Vec<f64> = [2, 0, n - 1].iter().flat_map(|&c| (0..k).map(move |j| (j, c))).map(|(j, c)| halves[j * n + c] as f64).collect();
        close(&format!("{what}: embedding rows"), &rows, &want, 0.0, 0.0)?;
    }
    // Every kind of half widens exactly (the wasm build's vector path takes these 8 at once).
    let special: [u16; 8] = [0x7c00, 0xfc00, 0x7e01, 0x0001, 0x8001, 0x03ff, 0x8000, 0x7bff];
    let deq = read(&QuantizedMatrix::from_halves(&dev, &special, 8, 1).map_err(e)?.dequantize().map_err(e)?).await?;
    for (i, &h) in special.iter().enumerate() {
        let want = half::f16::from_bits(h).to_f32();
        if !(deq[i].to_bits() == want.to_bits() || deq[i].is_nan() && want.is_nan()) {
            return Err(format!("half {h:#06x} widens to {:e}, expected {want:e}", deq[i]));
        }
    }
    // An infinity among the weights of a decoding step's product: that column's sum is infinite
    // (the vector path hands such blocks to the exact decoder), the other column is not.
    let mut bits = vec![0x3c00u16; 16];
    bits[6] = 0x7c00;
    let y = read(&ops::quantized_matmul(&t(&dev, &[1.0; 8], &[1, 8])?, &QuantizedMatrix::from_halves(&dev, &bits, 8, 2).map_err(e)?).map_err(e)?).await?;
    close("half weights with an infinity", &y, &[f64::INFINITY, 8.0], 0.0, 0.0)?;
    if QuantizedMatrix::from_halves(&dev, &[0; 6], 4, 2).is_ok() {
        return Err("6 halves taken for a [4, 2] weight".into());
    }
    Ok(())
}
