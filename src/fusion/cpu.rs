//! The CPU backend's run of a `Program`: one pass over the output, a block of elements at a time.
//! Each instruction computes its whole block before the next one (a tight loop per op over
//! scratch rows that stay in cache), so a fused chain reads its inputs and writes its output
//! once, with no intermediate tensors. Constants are never expanded into rows, and leaves read
//! element by element are used where they lie. The per-element functions are the ops' own
//! `f32`/`i32` rules (the reference the GPU kernels are tested against); the commonest
//! arithmetic has loops of its own that the compiler vectorises.
use std::cell::Ref;

use super::program::{Inst, Load, Program};
use crate::threads;
use crate::dtype::round_half;
use crate::ops::binary::{maximum, minimum, BinaryOp};
use crate::ops::compare::CompareOp;
use crate::ops::unary::{self, UnaryOp};
use crate::ops::random::{rand_normal, rand_unit};
use crate::tensor::Data;
use crate::{DType, Result};

const BLOCK: usize = 256;

/// Output elements [0, n) of `prog` as 32-bit words (two halves a word for a float16 result).
pub fn run(op: &str, prog: &Program) -> Result<Vec<u32>> {
    let n = prog.n;
    let half_out = prog.out_dtype() == DType::F16;
    let mut out = crate::tensor::alloc_words(op, prog.out_dtype().words(n))?;
    let leaves: Vec<Ref<'_, Vec<u32>>> = prog
        .buffers
        .iter()
        .map(|(s, _)| match s.data_if_realized() {
            Some(Data::Cpu(words)) => words.borrow(),
            _ => unreachable!("fused leaves are realized CPU tensors on the CPU backend"),
        })
        .collect();
    let code = Code {
        insts: &prog.insts,
        dtypes: &prog.dtypes,
        words: &prog.words,
        strided: &prog.strided,
        half_leaf: prog.buffers.iter().map(|(_, d)| *d == DType::F16).collect(),
        leaves: leaves.iter().map(|words| words.as_slice()).collect(),
    };
    // One scratch row per instruction, as long as a block (or the whole output, if shorter).
    // Blocks start at even elements, so a float16 result packs whole words per block.
    let width = BLOCK.min(n).max(1);
    let blocks = n.div_ceil(width);
    // A large expression is split by blocks across the CPU threads, each with its own rows.
    let parts = if n * prog.insts.len() >= PARALLEL_MIN_WORK { threads::split(blocks, 4, 1, 4) } else { vec![0..blocks] };
    let out_words = out.len();
    let out_ptr = threads::Shared::new(out.as_mut_ptr());
    threads::run_tasks(parts.len(), &|t| {
        let mut rows = vec![0u32; width * code.insts.len()];
        for start in parts[t].clone().map(|b| b * width) {
            let len = width.min(n - start);
            // The block's own words of `out` (blocks start at even elements).
            let words = if half_out { start / 2..(start + len).div_ceil(2) } else { start..start + len };
            assert!(words.end <= out_words);
            // SAFETY: in bounds (asserted), and blocks' words are disjoint.
            let out = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(words.start), words.len()) };
            run_block(&code, &mut rows, width, start, len, half_out, out);
        }
    });
    Ok(out)
}

/// Elements x instructions from which an expression splits across the CPU threads.
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Output elements start..start + len into `out`, their words (two halves a word for float16).
fn run_block(code: &Code, rows: &mut [u32], width: usize, start: usize, len: usize, half_out: bool, out: &mut [u32]) {
    for (k, inst) in code.insts.iter().enumerate() {
        let (done, rest) = rows.split_at_mut(k * width);
        let ctx = Block { code, rows: done, width, len, start };
        ctx.eval(k, inst, &mut rest[..len]);
    }
    let last = code.insts.len() - 1;
    let block = Block { code, rows, width, len, start };
    match (block.operand(last), half_out) {
        (Operand::Row(r), false) => out.copy_from_slice(r),
        (Operand::Scalar(w), false) => out.fill(w),
        // Values already rounded to halves (the cast to float16 did it): exact conversions.
        (value, true) => {
            for (j, o) in out.iter_mut().enumerate() {
                let low = crate::dtype::f16_bits(f(value.at(2 * j))) as u32;
                let high = if 2 * j + 1 < len { crate::dtype::f16_bits(f(value.at(2 * j + 1))) as u32 } else { 0 };
                *o = low | (high << 16);
            }
        }
    }
}

/// An instruction's value over the block: a row of words, or one word for all of it.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Row(&'a [u32]),
    Scalar(u32),
}

impl Operand<'_> {
    fn at(&self, t: usize) -> u32 {
        match self {
            Operand::Row(r) => r[t],
            Operand::Scalar(w) => *w,
        }
    }
}

/// What the blocks read of a Program: all but its leaf storages (reference-counted, so not
/// shared with other threads), whose words are `leaves`.
struct Code<'a> {
    insts: &'a [Inst],
    dtypes: &'a [DType],
    words: &'a [u32],
    strided: &'a [(Vec<u32>, Vec<u32>)],
    half_leaf: Vec<bool>,
    leaves: Vec<&'a [u32]>,
}

/// One block of the output being computed: what earlier instructions left in their rows.
struct Block<'a> {
    code: &'a Code<'a>,
    rows: &'a [u32],
    width: usize,
    len: usize,
    start: usize,
}

fn f(w: u32) -> f32 {
    f32::from_bits(w)
}

impl Block<'_> {
    /// The value of instruction `k`: constants and element-by-element leaf reads are used as they
    /// are; everything else was written to its row.
    fn operand(&self, k: usize) -> Operand<'_> {
        match &self.code.insts[k] {
            Inst::Const(w) => Operand::Scalar(self.code.words[*w]),
            Inst::Load { buffer, .. } if self.is_half(*buffer) => Operand::Row(&self.rows[k * self.width..k * self.width + self.len]),
            Inst::Load { buffer, load: Load::Same } => Operand::Row(&self.code.leaves[*buffer][self.start..self.start + self.len]),
            Inst::Load { buffer, load: Load::Scalar } => Operand::Scalar(self.code.leaves[*buffer][0]),
            _ => Operand::Row(&self.rows[k * self.width..k * self.width + self.len]),
        }
    }

    fn is_half(&self, buffer: usize) -> bool {
        self.code.half_leaf[buffer]
    }

    fn eval(&self, k: usize, inst: &Inst, row: &mut [u32]) {
        let prog = self.code;
        let w = |j: usize| prog.words[j];
        let int = !prog.dtypes[k].is_float();
        let start = self.start;
        match inst {
            // Halves are widened into the row, element by element through the read pattern.
            Inst::Load { buffer, load } if self.is_half(*buffer) => {
                let src = &self.code.leaves[*buffer];
                let half = |e: usize| crate::dtype::half_at(src, e).to_bits();
                match load {
                    Load::Same => row.iter_mut().enumerate().for_each(|(t, o)| *o = half(start + t)),
                    Load::Scalar => row.fill(half(0)),
                    Load::Mod(j) => row.iter_mut().enumerate().for_each(|(t, o)| *o = half((start + t) % w(*j) as usize)),
                    Load::Div(j) => row.iter_mut().enumerate().for_each(|(t, o)| *o = half((start + t) / w(*j) as usize)),
                    Load::Block(j) => row.iter_mut().enumerate().for_each(|(t, o)| *o = half(((start + t) / w(*j) as usize) % w(j + 1) as usize)),
                    Load::Strided { s, .. } => strided(&prog.strided[*s], start, row, half),
                }
            }
            // Used where they lie (see `operand`).
            Inst::Const(_) | Inst::Load { load: Load::Same | Load::Scalar, .. } => {}
            Inst::Load { buffer, load } => {
                let src = &self.code.leaves[*buffer];
                match load {
                    // src[i % m]: runs of src copied whole (a bias along the last axis)
                    Load::Mod(j) => {
                        let m = w(*j) as usize;
                        let (mut at, mut filled) = (start % m, 0);
                        while filled < row.len() {
                            let run = (m - at).min(row.len() - filled);
                            row[filled..filled + run].copy_from_slice(&src[at..at + run]);
                            (filled, at) = (filled + run, 0);
                        }
                    }
                    // src[i / d]: runs of one value (a per-channel scale over NCHW planes)
                    Load::Div(j) => {
                        let d = w(*j) as usize;
                        let (mut q, mut r, mut filled) = (start / d, start % d, 0);
                        while filled < row.len() {
                            let run = (d - r).min(row.len() - filled);
                            row[filled..filled + run].fill(src[q]);
                            (filled, q, r) = (filled + run, q + 1, 0);
                        }
                    }
                    // src[(i / d) % m]: runs of one value, cycling through m of them
                    Load::Block(j) => {
                        let (d, m) = (w(*j) as usize, w(j + 1) as usize);
                        let (mut q, mut r, mut filled) = ((start / d) % m, start % d, 0);
                        while filled < row.len() {
                            let run = (d - r).min(row.len() - filled);
                            row[filled..filled + run].fill(src[q]);
                            (filled, q, r) = (filled + run, if q + 1 == m { 0 } else { q + 1 }, 0);
                        }
                    }
                    Load::Strided { s, .. } => strided(&prog.strided[*s], start, row, |e| src[e]),
                    Load::Same | Load::Scalar => unreachable!("read in place"),
                }
            }
            Inst::Coord(j) => {
                let (d, m) = (w(*j) as usize, w(j + 1) as usize);
                row.iter_mut().enumerate().for_each(|(t, o)| *o = (((start + t) / d) % m) as u32);
            }
            Inst::Rand { normal, w: j } => {
                let seed = w(*j);
                for (t, o) in row.iter_mut().enumerate() {
                    let i = (start + t) as u32;
                    *o = if *normal { rand_normal(seed, i) } else { rand_unit(seed, i, 0) }.to_bits();
                }
            }
            Inst::Unary { op, x, w: j } => {
                let d = op.def();
                let x = self.operand(*x);
                let (alpha, beta) = if d.params > 0 { (f(w(*j)), f(w(j + 1))) } else { (0.0, 0.0) };
                match (int, d.i32) {
                    (true, Some((fi, _))) => map1(row, x, |a| fi(a as i32, alpha, beta) as u32),
                    _ => {
                        match op {
                            UnaryOp::Relu => map1(row, x, |a| if f(a) > 0.0 || f(a).is_nan() { a } else { 0 }),
                            // The transcendental ops, their rule inlined into the loop (a call
                            // through `d.f32` per element can be neither inlined nor vectorised).
                            UnaryOp::Exp => map1(row, x, |a| (unary::exp::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::Tanh => map1(row, x, |a| (unary::tanh::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::Sigmoid => map1(row, x, |a| (unary::sigmoid::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::Silu => map1(row, x, |a| (unary::silu::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::GeluTanh => map1(row, x, |a| (unary::gelu_tanh::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::Erf => map1(row, x, |a| (unary::erf::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::Gelu => map1(row, x, |a| (unary::gelu::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::Neg => map1(row, x, |a| a ^ 0x8000_0000),
                            UnaryOp::Clip => map1(row, x, |a| (unary::clip::DEF.f32)(f(a), alpha, beta).to_bits()),
                            UnaryOp::Relu6 => map1(row, x, |a| (unary::relu6::DEF.f32)(f(a), 0.0, 0.0).to_bits()),
                            UnaryOp::LeakyRelu => map1(row, x, |a| (unary::leaky_relu::DEF.f32)(f(a), alpha, beta).to_bits()),
                            _ => {
                                let ff = d.f32;
                                map1(row, x, |a| ff(f(a), alpha, beta).to_bits())
                            }
                        }
                    }
                }
            }
            Inst::Binary { op, a, b } => {
                let d = op.def();
                let (a, b) = (self.operand(*a), self.operand(*b));
                match (int, d.i32) {
                    (true, Some((fi, _))) => map2(row, a, b, |x, y| fi(x as i32, y as i32) as u32),
                    _ if !int => match op {
                        BinaryOp::Add => map2(row, a, b, |x, y| (f(x) + f(y)).to_bits()),
                        BinaryOp::Sub => map2(row, a, b, |x, y| (f(x) - f(y)).to_bits()),
                        BinaryOp::Mul => map2(row, a, b, |x, y| (f(x) * f(y)).to_bits()),
                        BinaryOp::Div => map2(row, a, b, |x, y| (f(x) / f(y)).to_bits()),
                        // Clip and ReLU6 as imported (ONNX Clip is a maximum and a minimum).
                        BinaryOp::Maximum => map2(row, a, b, |x, y| (maximum::DEF.f32)(f(x), f(y)).to_bits()),
                        BinaryOp::Minimum => map2(row, a, b, |x, y| (minimum::DEF.f32)(f(x), f(y)).to_bits()),
                        _ => {
                            let ff = d.f32;
                            map2(row, a, b, |x, y| ff(f(x), f(y)).to_bits())
                        }
                    },
                    _ => unreachable!("int binary ops without an int rule compute in float32"),
                }
            }
            Inst::Compare { op, a, b } => {
                let d = op.def();
                let float = prog.dtypes[*a].is_float();
                let (a, b) = (self.operand(*a), self.operand(*b));
                match (float, op) {
                    (true, CompareOp::Greater) => map2(row, a, b, |x, y| (f(x) > f(y)) as u32),
                    (true, CompareOp::GreaterEqual) => map2(row, a, b, |x, y| (f(x) >= f(y)) as u32),
                    (true, CompareOp::Less) => map2(row, a, b, |x, y| (f(x) < f(y)) as u32),
                    (true, CompareOp::LessEqual) => map2(row, a, b, |x, y| (f(x) <= f(y)) as u32),
                    (true, _) => map2(row, a, b, |x, y| (d.f32)(f(x), f(y)) as u32),
                    (false, CompareOp::Equal) => map2(row, a, b, |x, y| (x == y) as u32),
                    (false, _) => map2(row, a, b, |x, y| (d.i32)(x as i32, y as i32) as u32),
                }
            }
            Inst::Select { cond, a, b } => {
                let (c, a, b) = (self.operand(*cond), self.operand(*a), self.operand(*b));
                map3(row, c, a, b, |c, a, b| if c != 0 { a } else { b });
            }
            Inst::Cast { x } => {
                // A half is held as the float32 of its value: read as float32, and rounded when
                // cast to (from an int through float32, as the GPU does).
                let from = if prog.dtypes[*x] == DType::F16 { DType::F32 } else { prog.dtypes[*x] };
                let x = self.operand(*x);
                match (from, prog.dtypes[k]) {
                    (DType::F32, DType::F16) => map1(row, x, |w| round_half(f(w)).to_bits()),
                    (_, DType::F16) => map1(row, x, |w| round_half(w as i32 as f32).to_bits()),
                    (DType::F32, DType::I32) => map1(row, x, |w| (f(w) as i32) as u32),
                    (DType::F32, DType::Bool) => map1(row, x, |w| (f(w) != 0.0) as u32),
                    (DType::I32 | DType::Bool, DType::F32) => map1(row, x, |w| (w as i32 as f32).to_bits()),
                    (DType::I32, DType::Bool) => map1(row, x, |w| (w != 0) as u32),
                    _ => map1(row, x, |w| w),
                }
            }
        }
    }
}

/// `row[t] = op(x[t])`, the operand's kind matched once per block (tight, vectorisable loops).
fn map1(row: &mut [u32], x: Operand, op: impl Fn(u32) -> u32) {
    match x {
        Operand::Row(x) => row.iter_mut().zip(x).for_each(|(o, &x)| *o = op(x)),
        Operand::Scalar(x) => row.fill(op(x)),
    }
}

fn map2(row: &mut [u32], a: Operand, b: Operand, op: impl Fn(u32, u32) -> u32) {
    match (a, b) {
        (Operand::Row(x), Operand::Row(y)) => row.iter_mut().zip(x.iter().zip(y)).for_each(|(o, (&x, &y))| *o = op(x, y)),
        (Operand::Row(x), Operand::Scalar(y)) => row.iter_mut().zip(x).for_each(|(o, &x)| *o = op(x, y)),
        (Operand::Scalar(x), Operand::Row(y)) => row.iter_mut().zip(y).for_each(|(o, &y)| *o = op(x, y)),
        (Operand::Scalar(x), Operand::Scalar(y)) => row.fill(op(x, y)),
    }
}

fn map3(row: &mut [u32], a: Operand, b: Operand, c: Operand, op: impl Fn(u32, u32, u32) -> u32) {
    match (a, b, c) {
        (Operand::Row(x), Operand::Row(y), Operand::Scalar(z)) => row.iter_mut().zip(x.iter().zip(y)).for_each(|(o, (&x, &y))| *o = op(x, y, z)),
        (Operand::Row(x), Operand::Scalar(y), Operand::Row(z)) => row.iter_mut().zip(x.iter().zip(z)).for_each(|(o, (&x, &z))| *o = op(x, y, z)),
        _ => row.iter_mut().enumerate().for_each(|(t, o)| *o = op(a.at(t), b.at(t), c.at(t))),
    }
}

/// A strided read over the block (`fetch` gives a source element's word): an odometer over the
/// index space from the block's first element.
fn strided((dims, strides): &(Vec<u32>, Vec<u32>), start: usize, row: &mut [u32], fetch: impl Fn(usize) -> u32) {
    let rank = dims.len();
    let mut coord = vec![0usize; rank];
    let mut rem = start;
    for d in (0..rank).rev() {
        coord[d] = rem % dims[d] as usize;
        rem /= dims[d] as usize;
    }
    let mut off: usize = (0..rank).map(|d| coord[d] * strides[d] as usize).sum();
    for o in row.iter_mut() {
        *o = fetch(off);
        for d in (0..rank).rev() {
            coord[d] += 1;
            off += strides[d] as usize;
            if coord[d] < dims[d] as usize {
                break;
            }
            off -= strides[d] as usize * dims[d] as usize;
            coord[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{ops, DType, Device, Tensor};

    /// An expression long enough to be split across the CPU threads, ending in a cast to float16
    /// (two halves a word: tasks' blocks must meet at whole words), equals the same rules applied
    /// element by element; an odd count leaves a half word at the end.
    #[test]
    fn a_large_expression_split_across_threads_matches_element_by_element() {
        #[cfg(not(target_arch = "wasm32"))]
        crate::threads::start_native_workers(2);
        let n = 100_001;
        let xs: Vec<f32> = (0..n).map(|i| ((i * 37 % 1001) as f32 - 500.0) / 64.0).collect();
        let x = Tensor::from_f32(&Device::Cpu, &xs, &[n]).unwrap();
        let two = Tensor::scalar(&Device::Cpu, 2.0).unwrap();
        let y = ops::relu(&ops::add(&ops::mul(&x, &two).unwrap(), &x).unwrap()).unwrap();
        let halves = ops::cast(&y, DType::F16).unwrap().to_words_sync().unwrap();
        let singles = y.to_words_sync().unwrap();
        for (i, &v) in xs.iter().enumerate() {
            let want = (v * 2.0 + v).max(0.0);
            assert_eq!(f32::from_bits(singles[i]), want, "float32 element {i}");
            let half = (halves[i / 2] >> (16 * (i % 2))) as u16;
            assert_eq!(half, crate::dtype::f16_bits(crate::dtype::round_half(want)), "float16 element {i}");
        }
        assert_eq!(halves.len(), n.div_ceil(2));
    }
}
