//! WGSL for a `Program`: the declarations a kernel needs to read a fused input `name`, ending in
//! `fn load_<name>(i: u32) -> T`, the value of flat element i. A kernel that reads an input
//! through `load_<name>` (elementwise, reduce, pool, the optimizers) takes any fused expression
//! as that input; every generated name carries the input's name, so a kernel may take several.
use std::collections::BTreeSet;
use std::fmt::Write;

use super::program::{Inst, Load, Program};
use crate::DType;

/// The kernel-side declarations of fused input `name`: the `Fused_<name>` uniform struct (bound as
/// `p.f_<name>`), its leaf buffers from binding `first_binding` on, the op functions it calls,
/// and `load_<name>`.
pub fn prologue(prog: &Program, first_binding: u32, name: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "struct Fused_{name} {{\n    k: array<vec4<u32>, {}>,", prog.word_vec4s());
    for j in 0..prog.strided.len() {
        let _ = writeln!(s, "    s{j}_dims: array<vec4<u32>, 2>,\n    s{j}_strides: array<vec4<u32>, 2>,");
    }
    s += "};\n";
    for (b, (_, dtype)) in prog.buffers.iter().enumerate() {
        let _ = writeln!(s, "@group(0) @binding({}) var<storage, read> {name}_in{b}: array<{}>;", first_binding + b as u32, dtype.storage_wgsl());
        if *dtype == DType::F16 {
            let _ = writeln!(s, "fn {name}_half{b}(j: u32) -> f32 {{ return f16_value(({name}_in{b}[j >> 1u] >> ((j & 1u) * 16u)) & 0xffffu); }}");
        }
    }
    let _ = writeln!(s, "fn {name}_kw(j: u32) -> u32 {{ return p.f_{name}.k[j / 4u][j % 4u]; }}");
    for j in 0..prog.strided.len() {
        let _ = writeln!(
            s,
            "fn {name}_strided{j}(i: u32, rank: u32) -> u32 {{\n    var rem = i;\n    var off = 0u;\n    var d = rank;\n    loop {{\n        if (d == 0u) {{ break; }}\n        d = d - 1u;\n        let dim = p.f_{name}.s{j}_dims[d / 4u][d % 4u];\n        off = off + (rem % dim) * p.f_{name}.s{j}_strides[d / 4u][d % 4u];\n        rem = rem / dim;\n    }}\n    return off;\n}}"
        );
    }
    s += &op_functions(prog, name);
    let _ = writeln!(s, "fn load_{name}(i: u32) -> {} {{", prog.out_dtype().wgsl());
    for (n, inst) in prog.insts.iter().enumerate() {
        let t = prog.dtypes[n].wgsl();
        let v = |k: &usize| format!("v{k}");
        let value = match inst {
            Inst::Load { buffer, load } => {
                let index = match load {
                    Load::Same => "i".to_string(),
                    Load::Scalar => "0u".to_string(),
                    Load::Mod(w) => format!("i % {name}_kw({w}u)"),
                    Load::Div(w) => format!("i / {name}_kw({w}u)"),
                    Load::Block(w) => format!("(i / {name}_kw({w}u)) % {name}_kw({}u)", w + 1),
                    Load::Strided { s, w } => format!("{name}_strided{s}(i, {name}_kw({w}u))"),
                };
                if prog.buffers[*buffer].1 == DType::F16 {
                    format!("{name}_half{buffer}({index})")
                } else {
                    format!("{name}_in{buffer}[{index}]")
                }
            }
            Inst::Const(w) => format!("bitcast<{t}>({name}_kw({w}u))"),
            Inst::Coord(w) => format!("i32((i / {name}_kw({w}u)) % {name}_kw({}u))", w + 1),
            Inst::Rand { normal: false, w } => format!("rand_unit({name}_kw({w}u), i, 0u)"),
            Inst::Rand { normal: true, w } => format!("rand_normal({name}_kw({w}u), i)"),
            Inst::Unary { op, x, w } => {
                let suffix = if prog.dtypes[n].is_float() { "" } else { "_i32" };
                if op.def().params > 0 {
                    format!("{name}_u_{}{suffix}({}, bitcast<f32>({name}_kw({w}u)), bitcast<f32>({name}_kw({}u)))", op.name(), v(x), w + 1)
                } else {
                    format!("{name}_u_{}{suffix}({}, 0.0, 0.0)", op.name(), v(x))
                }
            }
            Inst::Binary { op, a, b } => {
                let suffix = if prog.dtypes[n].is_float() { "" } else { "_i32" };
                format!("{name}_b_{}{suffix}({}, {})", op.name(), v(a), v(b))
            }
            Inst::Compare { op, a, b } => format!("{name}_c_{}_{}({}, {})", op.name(), prog.dtypes[*a].wgsl(), v(a), v(b)),
            Inst::Select { cond, a, b } => format!("select({}, {}, {} != 0)", v(b), v(a), v(cond)),
            Inst::Cast { x } => cast(prog.dtypes[*x], prog.dtypes[n], &v(x)),
        };
        let _ = writeln!(s, "    let v{n}: {t} = {value};");
    }
    let _ = writeln!(s, "    return v{};\n}}", prog.insts.len() - 1);
    s
}

/// A half is held as the float32 of its value: read as float32, and rounded when cast to.
fn cast(from: DType, to: DType, x: &str) -> String {
    let from = if from == DType::F16 { DType::F32 } else { from };
    if to == DType::F16 {
        return format!("round_to_f16({})", cast(from, DType::F32, x));
    }
    match (from, to) {
        (DType::F32, DType::I32) => format!("f32_to_i32({x})"),
        (DType::F32, DType::Bool) => format!("i32({x} != 0.0 || is_nan({x}))"),
        (DType::I32 | DType::Bool, DType::F32) => format!("f32({x})"),
        (DType::I32, DType::Bool) => format!("i32({x} != 0)"),
        _ => x.to_string(),
    }
}

/// One WGSL function per (op, variant) the program uses, defined from the op's own WGSL.
fn op_functions(prog: &Program, name: &str) -> String {
    let mut wanted = BTreeSet::new();
    for (n, inst) in prog.insts.iter().enumerate() {
        let int = !prog.dtypes[n].is_float();
        match inst {
            Inst::Unary { op, .. } => {
                let d = op.def();
                wanted.insert(match (int, d.i32) {
                    (true, Some((_, expr))) => format!("fn {name}_u_{}_i32(x: i32, alpha: f32, beta: f32) -> i32 {{ return {expr}; }}", d.name),
                    // A NaN stays NaN wherever the op's CPU rule (the reference) keeps it: spelled
                    // out, since GPU math may assume NaN-free inputs (SwiftShader's exp(NaN) is
                    // +inf). Ops that map NaN to a number (sign, as TF.js) keep their own WGSL.
                    _ if (d.f32)(f32::NAN, 0.0, 0.0).is_nan() => {
                        format!("fn {name}_u_{}(x: f32, alpha: f32, beta: f32) -> f32 {{ if (is_nan(x)) {{ return x; }} return {}; }}", d.name, d.wgsl)
                    }
                    _ => format!("fn {name}_u_{}(x: f32, alpha: f32, beta: f32) -> f32 {{ return {}; }}", d.name, d.wgsl),
                });
            }
            Inst::Binary { op, .. } => {
                let d = op.def();
                wanted.insert(match (int, d.i32) {
                    (true, Some((_, expr))) => format!("fn {name}_b_{}_i32(a: i32, b: i32) -> i32 {{ return {expr}; }}", d.name),
                    _ => format!("fn {name}_b_{}(a: f32, b: f32) -> f32 {{ return {}; }}", d.name, d.wgsl),
                });
            }
            Inst::Compare { op, a, .. } => {
                let d = op.def();
                let t = prog.dtypes[*a].wgsl();
                // Comparisons with NaN are false (not_equal true), spelled out: shader compilers
                // may assume NaN-free math and fold them otherwise.
                let body = if t == "f32" && !d.logical {
                    let nan = "(is_nan(a) || is_nan(b))";
                    if d.name == "not_equal" { format!("{nan} || ({})", d.wgsl) } else { format!("!{nan} && ({})", d.wgsl) }
                } else {
                    d.wgsl.to_string()
                };
                wanted.insert(format!("fn {name}_c_{}_{t}(a: {t}, b: {t}) -> i32 {{ return i32({body}); }}", d.name));
            }
            _ => {}
        }
    }
    wanted.into_iter().map(|f| f + "\n").collect()
}
