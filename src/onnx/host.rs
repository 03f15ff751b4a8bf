//! Shape arithmetic on the host. Exporters compute sizes inside the graph (Shape -> Gather ->
//! Add -> Concat -> Reshape, Range of a length, masks from Equal/Where on shapes); when every
//! input of such an elementwise node has host values, the node is evaluated here too, so the ops
//! that need a shape (Reshape, Expand, Range, ConstantOfShape, Slice...) know it at any sequence
//! length without reading anything back from the device.
use super::{HostData, Value};
use crate::{DType, Device, Result};

/// Elementwise ops evaluated on the host when all their inputs are known.
pub fn handles(op_type: &str) -> bool {
    HostOp::parse(op_type).is_some()
}

enum Num {
    Int(i64),
    Float(f64),
}

/// Broadcasts `shapes` numpy-style; None when they do not broadcast (the device op then reports it).
fn broadcast(shapes: &[&[usize]]) -> Option<Vec<usize>> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; rank];
    for s in shapes {
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[rank - s.len() + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

/// For each element of `out`, the flat index it reads in a tensor of shape `s` that broadcasts to
/// it: walked with an odometer (no division per element).
fn source_indices(out: &[usize], s: &[usize]) -> Vec<usize> {
    let n: usize = out.iter().product();
    let size: usize = s.iter().product();
    if size == n {
        return (0..n).collect();
    }
    if size == 1 {
        return vec![0; n];
    }
    // The stride of each output axis in `s` (0 where `s` repeats along it).
    let mut strides = vec![0usize; out.len()];
    let mut stride = 1;
    for (k, &d) in s.iter().enumerate().rev() {
        let axis = out.len() - s.len() + k;
        if d != 1 {
            strides[axis] = stride;
        }
        stride *= d;
    }
    let mut coord = vec![0usize; out.len()];
    let mut at = 0usize;
    let mut indices = Vec::with_capacity(n);
    for _ in 0..n {
        indices.push(at);
        for axis in (0..out.len()).rev() {
            coord[axis] += 1;
            at += strides[axis];
            if coord[axis] < out[axis] {
                break;
            }
            at -= strides[axis] * out[axis];
            coord[axis] = 0;
        }
    }
    indices
}

fn get(h: &HostData, i: usize) -> Num {
    match h {
        HostData::Int(v) => Num::Int(v[i]),
        HostData::Float(v) => Num::Float(v[i] as f64),
    }
}

/// The ops `handles` names, resolved once per node rather than per element.
#[derive(Clone, Copy, PartialEq)]
enum HostOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Max,
    Min,
    Equal,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    And,
    Or,
    Not,
    Neg,
    Abs,
    Sqrt,
    Floor,
    Ceil,
    Where,
}

impl HostOp {
    fn parse(op_type: &str) -> Option<HostOp> {
        use HostOp::*;
        Some(match op_type {
            "Add" => Add,
            "Sub" => Sub,
            "Mul" => Mul,
            "Div" => Div,
            "Mod" => Mod,
            "Pow" => Pow,
            "Max" => Max,
            "Min" => Min,
            "Equal" => Equal,
            "Less" => Less,
            "Greater" => Greater,
            "LessOrEqual" => LessOrEqual,
            "GreaterOrEqual" => GreaterOrEqual,
            "And" => And,
            "Or" => Or,
            "Not" => Not,
            "Neg" => Neg,
            "Abs" => Abs,
            "Sqrt" => Sqrt,
            "Floor" => Floor,
            "Ceil" => Ceil,
            "Where" => Where,
            _ => return None,
        })
    }
}

/// Evaluates `op_type` over known inputs, or None when it cannot (unknown input, too large, an
/// integer division by zero): the caller then runs the device op alone.
pub fn eval(op_type: &str, args: &[Option<&Value>], device: &Device) -> Result<Option<Value>> {
    use HostOp::*;
    let Some(op) = HostOp::parse(op_type) else { return Ok(None) };
    let mut hosts = Vec::new();
    let mut shapes = Vec::new();
    for a in args {
        let Some(v) = a else { return Ok(None) };
        let Some(h) = &v.host else { return Ok(None) };
        hosts.push((h, v.tensor.dtype()));
        shapes.push(v.tensor.shape());
    }
    if hosts.is_empty() || (op != Where && hosts.len() > 2) || (op == Where && hosts.len() != 3) {
        return Ok(None);
    }
    let Some(out) = broadcast(&shapes) else { return Ok(None) };
    let n: usize = out.iter().product();
    if n > super::HOST_VALUES_MAX {
        return Ok(None);
    }
    let compare = matches!(op, Equal | Less | Greater | LessOrEqual | GreaterOrEqual | And | Or | Not);
    let value_dtype = if op == Where { hosts[1].1 } else { hosts[0].1 };
    let float = value_dtype == DType::F32;
    let sources: Vec<Vec<usize>> = shapes.iter().map(|s| source_indices(&out, s)).collect();
    let mut ints = Vec::with_capacity(n);
    let mut floats = Vec::with_capacity(n);
    for i in 0..n {
        let at = |k: usize| get(hosts[k].0, sources[k][i]);
        let r = if op == Where {
            let Num::Int(c) = at(0) else { return Ok(None) };
            if c != 0 { at(1) } else { at(2) }
        } else if hosts.len() == 1 {
            match at(0) {
                Num::Int(a) => Num::Int(match op {
                    Not => (a == 0) as i64,
                    Neg => a.wrapping_neg(),
                    Abs => a.wrapping_abs(),
                    Floor | Ceil => a,
                    _ => return Ok(None),
                }),
                Num::Float(a) => Num::Float(match op {
                    Neg => -a,
                    Abs => a.abs(),
                    Sqrt => a.sqrt(),
                    Floor => a.floor(),
                    Ceil => a.ceil(),
                    _ => return Ok(None),
                }),
            }
        } else {
            match (at(0), at(1)) {
                (Num::Int(a), Num::Int(b)) => match op {
                    Add => Num::Int(a.wrapping_add(b)),
                    Sub => Num::Int(a.wrapping_sub(b)),
                    Mul => Num::Int(a.wrapping_mul(b)),
                    // ONNX integer division truncates; Mod (fmod = 0) takes the divisor's sign.
                    Div if b != 0 => Num::Int(a.wrapping_div(b)),
                    Mod if b != 0 => {
                        let r = a.wrapping_rem(b);
                        Num::Int(if r != 0 && (r < 0) != (b < 0) { r + b } else { r })
                    }
                    Pow if (0..63).contains(&b) => Num::Int(a.wrapping_pow(b as u32)),
                    Max => Num::Int(a.max(b)),
                    Min => Num::Int(a.min(b)),
                    Equal | Less | Greater | LessOrEqual | GreaterOrEqual => Num::Int(compare_values(op, a, b) as i64),
                    And => Num::Int((a != 0 && b != 0) as i64),
                    Or => Num::Int((a != 0 || b != 0) as i64),
                    _ => return Ok(None),
                },
                (Num::Float(a), Num::Float(b)) => match op {
                    Add => Num::Float(a + b),
                    Sub => Num::Float(a - b),
                    Mul => Num::Float(a * b),
                    Div => Num::Float(a / b),
                    Pow => Num::Float(a.powf(b)),
                    // NaN in gives NaN out, as the engine's maximum/minimum (f64::max drops it).
                    Max => Num::Float(if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }),
                    Min => Num::Float(if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }),
                    Equal | Less | Greater | LessOrEqual | GreaterOrEqual => Num::Int(compare_values(op, a, b) as i64),
                    _ => return Ok(None),
                },
                _ => return Ok(None),
            }
        };
        match r {
            Num::Int(v) => ints.push(v),
            Num::Float(v) => floats.push(v as f32),
        }
    }
    let (dtype, data) = if compare {
        (DType::Bool, HostData::Int(ints))
    } else if float {
        (DType::F32, HostData::Float(floats))
    } else {
        (value_dtype, HostData::Int(ints))
    };
    if match &data {
        HostData::Int(v) => v.len(),
        HostData::Float(v) => v.len(),
    } != n
    {
        return Ok(None);
    }
    super::upload(device, &super::Decoded { dims: out, dtype, data }).map(Some)
}

/// ONNX's comparisons on integers or floats (any comparison with NaN is false, as on the device).
fn compare_values<T: PartialOrd>(op: HostOp, a: T, b: T) -> bool {
    match op {
        HostOp::Equal => a == b,
        HostOp::Less => a < b,
        HostOp::Greater => a > b,
        HostOp::LessOrEqual => a <= b,
        HostOp::GreaterOrEqual => a >= b,
        _ => unreachable!("compare_values is called for comparisons only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(v: Vec<i64>, shape: &[usize]) -> Value {
        super::super::upload(&Device::Cpu, &super::super::Decoded { dims: shape.to_vec(), dtype: DType::I32, data: HostData::Int(v) }).unwrap()
    }

    #[test]
    fn broadcasts_and_keeps_integer_semantics() {
        let a = known(vec![7, -7], &[2]);
        let b = known(vec![2], &[1]);
        let div = eval("Div", &[Some(&a), Some(&b)], &Device::Cpu).unwrap().unwrap();
        assert_eq!(div.host.unwrap().as_ints(), vec![3, -3]);
        let m = eval("Mod", &[Some(&a), Some(&b)], &Device::Cpu).unwrap().unwrap();
        assert_eq!(m.host.unwrap().as_ints(), vec![1, 1]);
        let col = known(vec![0, 1, 2], &[3, 1]);
        let row = known(vec![0, 1, 2], &[1, 3]);
        let le = eval("LessOrEqual", &[Some(&col), Some(&row)], &Device::Cpu).unwrap().unwrap();
        assert_eq!(le.tensor.shape(), &[3, 3]);
        assert_eq!(le.tensor.dtype(), DType::Bool);
        assert_eq!(le.host.unwrap().as_ints(), vec![1, 1, 1, 0, 1, 1, 0, 0, 1]);
        // A rank-3 broadcast against the per-element coordinates.
        let (out, s) = ([2usize, 3, 4], [3usize, 1]);
        let want: Vec<usize> = (0..24).map(|i| (i / 4) % 3).collect();
        assert_eq!(source_indices(&out, &s), want);
        assert_eq!(source_indices(&out, &[2, 1, 4]), (0..24).map(|i| (i / 12) * 4 + i % 4).collect::<Vec<_>>());
        // Float Max/Min keep a NaN, as the device ops do; comparisons with NaN are false.
        let f = |v: Vec<f32>| super::super::upload(&Device::Cpu, &super::super::Decoded { dims: vec![v.len()], dtype: DType::F32, data: HostData::Float(v) }).unwrap();
        let (x, y) = (f(vec![f32::NAN, 1.0, -0.5]), f(vec![2.0, f32::NAN, 3.0]));
        for op in ["Max", "Min"] {
            let r = eval(op, &[Some(&x), Some(&y)], &Device::Cpu).unwrap().unwrap();
            let Some(HostData::Float(v)) = r.host else { panic!("{op}: float output") };
            assert!(v[0].is_nan() && v[1].is_nan(), "{op}: {v:?}");
            assert_eq!(v[2], if op == "Max" { 3.0 } else { -0.5 });
        }
        let lt = eval("Less", &[Some(&x), Some(&y)], &Device::Cpu).unwrap().unwrap();
        assert_eq!(lt.host.unwrap().as_ints(), vec![0, 0, 1]);
        let zero = known(vec![0], &[1]);
        assert!(eval("Div", &[Some(&a), Some(&zero)], &Device::Cpu).unwrap().is_none(), "integer division by zero is left to the device op");
    }
}
