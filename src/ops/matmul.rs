//! matmul: 2-D and batched (leading dimensions broadcast), with TF.js's transposeA/transposeB.
//! Transposes are free: the kernel reads operands through strides.
use std::rc::Rc;

use bytemuck::Zeroable;

use crate::autograd::{no_grad, record, sum_to_shape};
use crate::device::gpu::{grid_2d, GpuBuffer, MAX_WORKGROUPS_PER_DIM};
use crate::device::Device;
use crate::kernel::Source;
use crate::shape::{broadcast_shapes, checked_numel};
use crate::tensor::{common_device, Storage, Tensor};
use crate::{bail, threads, DType, Result};

use super::packed_weights::{packed_weight, Layout, Pack, Side};

/// store_4x4, shared by the 4x4 kernels.
const COMMON: &str = include_str!("../../shaders/matmul_common.wgsl");
const TILED: &str = include_str!("../../shaders/matmul.wgsl");
const DIRECT: &str = include_str!("../../shaders/matmul_direct.wgsl");
const VEC4: &str = include_str!("../../shaders/matmul_vec4.wgsl");
const NAIVE: &str = include_str!("../../shaders/matmul_naive.wgsl");
const SMALL: &str = include_str!("../../shaders/matmul_small.wgsl");

/// Below this many rows or columns the 64x64 tiled kernel would leave most of each tile idle.
const SKINNY: usize = 32;

/// Which GPU kernel runs a matmul. `Auto` picks per adapter: on GPUs emulated on the CPU the
/// register-only kernels (no barriers), `Vec4` where the shape lets it read vec4s and `Direct`
/// otherwise; on real GPUs `Tiled` (workgroup-memory tiles). Skinny shapes take the small split-k
/// kernel either way. `Naive` exists as the benchmark's baseline only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatmulKernel {
    Auto,
    Tiled,
    Direct,
    /// Falls back to `Direct` for shapes it cannot read as vec4 (see `vec4_fits`).
    Vec4,
    Naive,
}

crate::params! {
    /// What every matmul kernel is given: sizes, the strides through which A and B are read (so
    /// transposed operands need no copy), and the split-k of matmul_small.wgsl.
    pub struct MatmulParams {
        m: u32, n: u32, k: u32, _pad0: u32,
        /// Strides between rows (along m) and columns (along k) of A; along k and n of B.
        a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32,
        /// Between batches (0 broadcasts one matrix over the batch).
        a_bs: u32, b_bs: u32,
        /// matmul_small.wgsl: how many k ranges, each summed separately, and their length.
        splits: u32, k_chunk: u32,
    }
}

/// Whether matmul_vec4.wgsl can read these operands as vec4s: k whole vec4s, and the dimension
/// each operand is read along contiguous in whole vec4s (A along k, or along m when transposed;
/// B along n, or along k when transposed).
fn vec4_fits(m: usize, k: usize, n: usize, transpose_a: bool, transpose_b: bool) -> bool {
    k % 4 == 0 && (!transpose_a || m % 4 == 0) && (transpose_b || n % 4 == 0)
}

/// How matmul_vec4.wgsl reads one operand: the `Reader` fields this operand's reads start from
/// (declarations and their initial values, over `r`, `col`, `a_base`, `b_base` and `p`), and the
/// body of its load function (over `s: ptr<function, Reader>` and `kq`, returning 8 vec4s).
pub(crate) struct Vec4Reads {
    pub fields: Vec<(String, String, String)>,
    pub load: String,
}

/// matmul_vec4.wgsl's source: the given `Params` fields, buffers c, a, b (vec4s), the `Reader`
/// both operands' reads keep, `start` (where this thread's reads begin), and `load_a`,
/// `load_b` (the 8 vec4s of A's rows and of B's k-quad at k = 4 kq).
pub(crate) fn vec4_source_with(params_fields: &str, a: &Vec4Reads, b: &Vec4Reads) -> String {
    let fields: Vec<&(String, String, String)> = a.fields.iter().chain(&b.fields).collect();
    let mut defs = String::from("struct Reader {\n");
    for (name, ty, _) in &fields {
        defs += &format!("    {name}: {ty},\n");
    }
    defs += "};\nfn start(r: u32, col: u32, a_base: u32, b_base: u32) -> Reader {\n    var s: Reader;\n";
    for (name, _, init) in &fields {
        defs += &format!("    s.{name} = {init};\n");
    }
    defs += "    return s;\n}\n";
    defs += &format!("fn load_a(s: ptr<function, Reader>, kq: u32) -> array<vec4<f32>, 8> {{\n{}}}\n", a.load);
    defs += &format!("fn load_b(s: ptr<function, Reader>, kq: u32) -> array<vec4<f32>, 8> {{\n{}}}\n", b.load);
    Source::new(params_fields)
        .buffer("c", "f32", true)
        .buffer("a", "vec4<f32>", false)
        .buffer("b", "vec4<f32>", false)
        .define(&defs)
        .body(VEC4)
}

const LANES: [char; 4] = ['x', 'y', 'z', 'w'];

fn field(name: String, ty: &str, init: String) -> (String, String, String) {
    (name, ty.to_string(), init)
}

/// Reads of A: rows r..r+7 at four k (a transposed A is read as vec4s along m and regrouped).
/// Indices are in vec4s; bases are multiples of 4 because every dimension they step over is.
fn vec4_reads_of_a(transpose_a: bool) -> Vec4Reads {
    let mut fields = Vec::new();
    let mut load = String::new();
    if transpose_a {
        // A is stored [k, m]: rows r..r+3 and r+4..r+7 of one k are two vec4s.
        fields.push(field("m4".into(), "u32", "p.a_cs / 4u".into()));
        fields.push(field("ta0".into(), "u32", "(a_base + min(r, p.m - 4u)) / 4u".into()));
        fields.push(field("ta1".into(), "u32", "(a_base + min(r + 4u, p.m - 4u)) / 4u".into()));
        load += "    let ak = 4u * kq * (*s).m4;\n";
        for q in 0..4 {
            load += &format!("    let t{q}0 = a[(*s).ta0 + ak + {q}u * (*s).m4]; let t{q}1 = a[(*s).ta1 + ak + {q}u * (*s).m4];\n");
        }
        load += "    return array<vec4<f32>, 8>(";
        for i in 0..8 {
            let (h, l) = (i / 4, LANES[i % 4]);
            load += &format!("{}vec4<f32>(t0{h}.{l}, t1{h}.{l}, t2{h}.{l}, t3{h}.{l})", if i > 0 { ", " } else { "" });
        }
        load += ");\n";
    } else {
        for i in 0..8 {
            fields.push(field(format!("ra{i}"), "u32", format!("(a_base + min(r + {i}u, p.m - 1u) * p.a_rs) / 4u")));
        }
        load += "    return array<vec4<f32>, 8>(";
        for i in 0..8 {
            load += &format!("{}a[(*s).ra{i} + kq]", if i > 0 { ", " } else { "" });
        }
        load += ");\n";
    }
    Vec4Reads { fields, load }
}

/// Reads of B: its k-quad at columns col..col+7 as b{q}{j} = B[4kq + q, col + 4j ..] (a
/// transposed B is read as vec4s along k and regrouped), in the order b00 b01 b10 .. b31.
pub(crate) fn vec4_reads_of_b(transpose_b: bool) -> Vec4Reads {
    let mut fields = Vec::new();
    let mut load = String::new();
    if transpose_b {
        // B is stored [n, k]: four k of one column are a vec4.
        for j in 0..8 {
            fields.push(field(format!("cb{j}"), "u32", format!("(b_base + min(col + {j}u, p.n - 1u) * p.b_cs) / 4u")));
            load += &format!("    let u{j} = b[(*s).cb{j} + kq];\n");
        }
        load += "    return array<vec4<f32>, 8>(";
        for (q, l) in LANES.iter().enumerate() {
            load += &format!("{}vec4<f32>(u0.{l}, u1.{l}, u2.{l}, u3.{l}), vec4<f32>(u4.{l}, u5.{l}, u6.{l}, u7.{l})", if q > 0 { ", " } else { "" });
        }
        load += ");\n";
    } else {
        fields.push(field("n4".into(), "u32", "p.b_rs / 4u".into()));
        fields.push(field("tb0".into(), "u32", "(b_base + min(col, p.n - 4u)) / 4u".into()));
        fields.push(field("tb1".into(), "u32", "(b_base + min(col + 4u, p.n - 4u)) / 4u".into()));
        load += "    let bk = 4u * kq * (*s).n4;\n    return array<vec4<f32>, 8>(";
        for q in 0..4 {
            load += &format!("{}b[(*s).tb0 + bk + {q}u * (*s).n4], b[(*s).tb1 + bk + {q}u * (*s).n4]", if q > 0 { ", " } else { "" });
        }
        load += ");\n";
    }
    Vec4Reads { fields, load }
}

/// A scalar matmul kernel's source: the shared params, buffers c, a, b, store_4x4, then its body.
fn scalar_source(body: &str) -> String {
    Source::new(&MatmulParams::wgsl_fields()).buffer("c", "f32", true).buffer("a", "f32", false).buffer("b", "f32", false).define(COMMON).body(body)
}

pub fn matmul(a: &Tensor, b: &Tensor, transpose_a: bool, transpose_b: bool) -> Result<Tensor> {
    let out = no_grad(|| matmul_with(a, b, transpose_a, transpose_b, MatmulKernel::Auto))?;
    let (ta, tb) = (transpose_a, transpose_b);
    Ok(record("matmul", out, &[a, b], move |g| {
        let (a, b, dc) = (&g.inputs[0], &g.inputs[1], g.grad);
        // C = op(A) op(B): d op(A) = dC op(B)^T, d op(B) = op(A)^T dC; transposed operands get the
        // transposed product. Batch dimensions that were broadcast are summed back.
        let da = if !g.needs(0) {
            None
        } else if ta {
            Some(sum_to_shape(&matmul(b, dc, tb, true)?, a.shape())?)
        } else {
            Some(sum_to_shape(&matmul(dc, b, false, !tb)?, a.shape())?)
        };
        let db = if !g.needs(1) {
            None
        } else if tb {
            Some(sum_to_shape(&matmul(dc, a, true, ta)?, b.shape())?)
        } else {
            Some(sum_to_shape(&matmul(a, dc, !ta, false)?, b.shape())?)
        };
        Ok(vec![da, db])
    }))
}

pub fn matmul_with(a: &Tensor, b: &Tensor, transpose_a: bool, transpose_b: bool, kernel: MatmulKernel) -> Result<Tensor> {
    const OP: &str = "matmul";
    let device = common_device(OP, &[a, b])?;
    if a.rank() < 2 || b.rank() < 2 {
        bail!(OP, "both operands need at least 2 dimensions, got shapes {:?} and {:?}", a.shape(), b.shape());
    }
    let (ra, rb) = (a.rank(), b.rank());
    let (m, ka) = if transpose_a { (a.shape()[ra - 1], a.shape()[ra - 2]) } else { (a.shape()[ra - 2], a.shape()[ra - 1]) };
    let (kb, n) = if transpose_b { (b.shape()[rb - 1], b.shape()[rb - 2]) } else { (b.shape()[rb - 2], b.shape()[rb - 1]) };
    if ka != kb {
        bail!(
            OP,
            "inner dimensions differ: shapes {:?} and {:?} (transposeA={}, transposeB={}) give {} and {}",
            a.shape(), b.shape(), transpose_a, transpose_b, ka, kb
        );
    }
    let k = ka;
    let batch_shape = broadcast_shapes(OP, &a.shape()[..ra - 2], &b.shape()[..rb - 2])?;
    let batch = checked_numel(OP, &batch_shape)?;
    let mut out_shape = batch_shape.clone();
    out_shape.extend([m, n]);
    checked_numel(OP, &out_shape)?;
    // Float math only, as in TF.js; ints are computed in float32.
    let a = if a.dtype() == DType::F32 { a.clone() } else { super::cast(a, DType::F32)? };
    let b = if b.dtype() == DType::F32 { b.clone() } else { super::cast(b, DType::F32)? };
    // A batch of one broadcasts by a zero stride; other mismatches are materialised.
    let a_batch: usize = a.shape()[..ra - 2].iter().product();
    let b_batch: usize = b.shape()[..rb - 2].iter().product();
    let expand = |t: &Tensor, own: usize, r: usize| -> Result<(Tensor, bool)> {
        if own == batch || own == 1 {
            Ok((t.clone(), own == 1 && batch > 1))
        } else {
            let mut s = batch_shape.clone();
            s.extend_from_slice(&t.shape()[r - 2..]);
            Ok((super::broadcast_to(t, &s)?, false))
        }
    };
    let (a, a_bcast) = expand(&a, a_batch, ra)?;
    let (b, b_bcast) = expand(&b, b_batch, rb)?;
    let (ar, ac) = (a.shape()[a.rank() - 2], a.shape()[a.rank() - 1]);
    let (br, bc) = (b.shape()[b.rank() - 2], b.shape()[b.rank() - 1]);
    let p = MatmulParams {
        m: m as u32,
        n: n as u32,
        k: k as u32,
        a_rs: if transpose_a { 1 } else { ac as u32 },
        a_cs: if transpose_a { ac as u32 } else { 1 },
        b_rs: if transpose_b { 1 } else { bc as u32 },
        b_cs: if transpose_b { bc as u32 } else { 1 },
        a_bs: if a_bcast { 0 } else { (ar * ac) as u32 },
        b_bs: if b_bcast { 0 } else { (br * bc) as u32 },
        ..MatmulParams::zeroed()
    };
    let storage = match &device {
        Device::Cpu => Storage::cpu(matmul_cpu(&a, &b, &p, batch)?),
        Device::Gpu(ctx) => {
            let bytes = (batch * m * n * 4) as u64;
            let out = ctx.alloc(OP, bytes)?;
            if k == 0 {
                ctx.clear(out.raw(), bytes);
            } else if kernel != MatmulKernel::Naive && m.min(n) >= SKINNY {
                // Each of these kernels covers 64x64 of C per workgroup.
                let emulated = ctx.is_cpu_emulated();
                let chosen = match kernel {
                    MatmulKernel::Auto if emulated => MatmulKernel::Vec4,
                    MatmulKernel::Auto => MatmulKernel::Tiled,
                    other => other,
                };
                let chosen = if chosen == MatmulKernel::Vec4 && !vec4_fits(m, k, n, transpose_a, transpose_b) { MatmulKernel::Direct } else { chosen };
                let grid = [n.div_ceil(64) as u32, m.div_ceil(64) as u32, batch as u32];
                check_grid(&grid, &out_shape)?;
                let kernel = match chosen {
                    MatmulKernel::Vec4 => {
                        let key = format!("matmul_vec4:{}{}", if transpose_a { "t" } else { "n" }, if transpose_b { "t" } else { "n" });
                        ctx.kernel(&key, || vec4_source_with(&MatmulParams::wgsl_fields(), &vec4_reads_of_a(transpose_a), &vec4_reads_of_b(transpose_b)))
                    }
                    MatmulKernel::Direct => ctx.kernel("matmul_direct", || scalar_source(DIRECT)),
                    _ => ctx.kernel("matmul", || scalar_source(TILED)),
                };
                ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &bindings(&a, &b, &out)?, grid);
            } else if kernel != MatmulKernel::Naive {
                // Few outputs and a long k: split k so more threads share the work, then sum.
                let splits = if batch * m * n < 16384 { k.div_ceil(512).clamp(1, 64) } else { 1 };
                let k_chunk = k.div_ceil(splits);
                let splits = k.div_ceil(k_chunk);
                let p = MatmulParams { splits: splits as u32, k_chunk: k_chunk as u32, ..p };
                let grid = grid_2d((m * n).div_ceil(256) as u64)?;
                let grid = [grid[0], grid[1], (batch * splits) as u32];
                check_grid(&grid, &out_shape)?;
                let kernel = ctx.kernel("matmul_small", || scalar_source(SMALL));
                if splits == 1 {
                    ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &bindings(&a, &b, &out)?, grid);
                } else {
                    let partial = ctx.alloc(OP, bytes * splits as u64)?;
                    ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &bindings(&a, &b, &partial)?, grid);
                    let partial = Tensor::from_storage(&device, Rc::new(Storage::gpu(partial)), vec![batch, splits, m * n], DType::F32);
                    let summed = super::sum(&partial, Some(&[1]), false)?;
                    return summed.reshape_to(&out_shape);
                }
            } else {
                let grid = [n.div_ceil(16) as u32, m.div_ceil(16) as u32, batch as u32];
                check_grid(&grid, &out_shape)?;
                let kernel = ctx.kernel("matmul_naive", || scalar_source(NAIVE));
                ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &bindings(&a, &b, &out)?, grid);
            }
            Storage::gpu(out)
        }
    };
    Ok(Tensor::from_storage(&device, Rc::new(storage), out_shape, DType::F32))
}

fn check_grid(grid: &[u32; 3], out_shape: &[usize]) -> Result<()> {
    if grid.iter().any(|&g| g > MAX_WORKGROUPS_PER_DIM) {
        bail!("matmul", "output {:?} is too large for one dispatch", out_shape);
    }
    Ok(())
}

fn bindings<'a>(a: &'a Tensor, b: &'a Tensor, out: &'a GpuBuffer) -> Result<[&'a wgpu::Buffer; 3]> {
    Ok([out.raw(), a.gpu_buffer()?.raw(), b.gpu_buffer()?.raw()])
}

/// The CPU kernel, one call per batch, reading A and B through the same strides as the GPU:
/// natively matrixmultiply's sgemm (packed panels, SSE/AVX/FMA micro-kernels), in the browser our
/// wasm SIMD128 one (src/ops/sgemm_wasm.rs says why).
/// Up to this many rows of A, the CPU product skips packing (see `gemv`).
const GEMV_MAX_ROWS: usize = 2;

/// C (m x n) = A B for a row or two of A (a decoding step's projections), without packing: it
/// reads B once, where the packed GEMM would read it, write a copy and read that. B's rows must be
/// contiguous (then each row of C accumulates rows of B), or its columns (then each element is a
/// dot product); returns false, computing nothing, for other strides. A large one is split by
/// columns across the CPU threads.
#[allow(clippy::too_many_arguments)]
fn gemv(m: usize, k: usize, n: usize, a: &[f32], a_rs: usize, a_cs: usize, b: &[f32], b_rs: usize, b_cs: usize, c: &mut [f32]) -> bool {
    if b_cs != 1 && b_rs != 1 {
        return false;
    }
    let cols = if m * k * n >= PARALLEL_MIN_MACS { threads::split(n, 64, 16, 4) } else { vec![0..n] };
    let out = threads::Shared::new(c.as_mut_ptr());
    assert!(c.len() >= m * n);
    threads::run_tasks(cols.len(), &|t| {
        let cols = cols[t].clone();
        // SAFETY: `c` holds m rows of n; this task writes columns `cols` of each, which no other
        // task writes.
        let mut rows: Vec<&mut [f32]> = (0..m).map(|i| unsafe { std::slice::from_raw_parts_mut(out.get().add(i * n + cols.start), cols.len()) }).collect();
        gemv_columns(k, a, a_rs, a_cs, b, b_rs, b_cs, cols.start, &mut rows);
    });
    true
}

/// Columns j0.. j0 + rows[i].len() of gemv's C, row i in rows[i].
#[allow(clippy::too_many_arguments)]
fn gemv_columns(k: usize, a: &[f32], a_rs: usize, a_cs: usize, b: &[f32], b_rs: usize, b_cs: usize, j0: usize, rows: &mut [&mut [f32]]) {
    let a_at = |i: usize, p: usize| a[i * a_rs + p * a_cs];
    if b_cs == 1 {
        for (i, ci) in rows.iter_mut().enumerate() {
            ci.fill(0.0);
            let len = ci.len();
            for p in 0..k {
                let av = a_at(i, p);
                ci.iter_mut().zip(&b[p * b_rs + j0..p * b_rs + j0 + len]).for_each(|(c, &b)| *c += av * b);
            }
        }
        return;
    }
    let mut row = vec![0f32; k];
    for (i, ci) in rows.iter_mut().enumerate() {
        row.iter_mut().enumerate().for_each(|(p, x)| *x = a_at(i, p));
        for (j, cij) in ci.iter_mut().enumerate() {
            *cij = dot(&row, &b[(j0 + j) * b_cs..(j0 + j) * b_cs + k]);
        }
    }
}

/// x . y with eight independent partial sums (a vector's lanes once compiled; one running sum
/// would be a dependency chain the compiler may not reorder). Also the CPU attention's.
pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
    let (cx, cy) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail: f32 = cx.remainder().iter().zip(cy.remainder()).map(|(a, b)| a * b).sum();
    let mut acc = [0f32; 8];
    for (a, b) in cx.zip(cy) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn matmul_cpu(at: &Tensor, bt: &Tensor, p: &MatmulParams, batch: usize) -> Result<Vec<u32>> {
    let (aw, bw) = (at.cpu_words()?, bt.cpu_words()?);
    let a: &[f32] = bytemuck::cast_slice(&aw);
    let b: &[f32] = bytemuck::cast_slice(&bw);
    let (m, n, k) = (p.m as usize, p.n as usize, p.k as usize);
    let mut words = crate::tensor::alloc_words("matmul", batch * m * n)?;
    if m == 0 || n == 0 || k == 0 {
        return Ok(words);
    }
    let c: &mut [f32] = bytemuck::cast_slice_mut(&mut words);
    // The furthest element each operand is read at, so the raw-pointer call below stays in bounds.
    let last_a = (m - 1) * p.a_rs as usize + (k - 1) * p.a_cs as usize;
    let last_b = (k - 1) * p.b_rs as usize + (n - 1) * p.b_cs as usize;
    let (a_bs, b_bs) = (p.a_bs as usize, p.b_bs as usize);
    assert!((batch - 1) * a_bs + last_a < a.len() && (batch - 1) * b_bs + last_b < b.len(), "matmul operands smaller than their shapes");
    let (a_rs, a_cs, b_rs, b_cs) = (p.a_rs as usize, p.a_cs as usize, p.b_rs as usize, p.b_cs as usize);
    // A weight that every product of the batch reads whole keeps its pack (packed_weights.rs);
    // products of a row or two read B unpacked (`gemv`) and make none.
    let packed = !reads_unpacked(m, b_rs, b_cs);
    let a_pack = (packed && (batch == 1 || a_bs == 0)).then(|| packed_weight(at, a, Layout { side: Side::A, offset: 0, rows: m, k, rs: a_rs, cs: a_cs })).flatten();
    let b_pack = (packed && (batch == 1 || b_bs == 0)).then(|| packed_weight(bt, b, Layout { side: Side::B, offset: 0, rows: n, k, rs: b_rs, cs: b_cs })).flatten();
    let (a_pack, b_pack) = (a_pack.as_deref().map(Pack::view), b_pack.as_deref().map(Pack::view));
    let product = |z: usize, cz: &mut [f32]| {
        let a = Operand { data: &a[z * a_bs..], rs: a_rs, cs: a_cs, pack: a_pack };
        let b = Operand { data: &b[z * b_bs..], rs: b_rs, cs: b_cs, pack: b_pack };
        gemm_with_packs(m, k, n, a, b, cz)
    };
    if batch > 1 && m * k * n < PARALLEL_MIN_MACS && batch * m * k * n >= PARALLEL_MIN_MACS {
        // Many small products (attention's heads): whole products per task (a large product
        // splits itself across the threads instead).
        let out = threads::Shared::new(c.as_mut_ptr());
        let groups = threads::split(batch, 1, 1, 4);
        threads::run_tasks(groups.len(), &|t| {
            for z in groups[t].clone() {
                // SAFETY: product z writes its own m x n block of `c`; groups are disjoint.
                product(z, unsafe { std::slice::from_raw_parts_mut(out.get().add(z * m * n), m * n) });
            }
        });
    } else {
        c.chunks_exact_mut(m * n).enumerate().for_each(|(z, cz)| product(z, cz));
    }
    Ok(words)
}

/// C (m x n, row-major, overwritten) = A B for any m: the unpacked path for a row or two of A
/// (where B's layout allows it), the packed GEMM otherwise.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(m: usize, k: usize, n: usize, a: &[f32], a_rs: usize, a_cs: usize, b: &[f32], b_rs: usize, b_cs: usize, c: &mut [f32]) {
    gemm_with_packs(m, k, n, Operand { data: a, rs: a_rs, cs: a_cs, pack: None }, Operand { data: b, rs: b_rs, cs: b_cs, pack: None }, c)
}

/// `gemm` whose operands may come packed (then m is more than a row or two: see
/// `reads_unpacked`).
pub(crate) fn gemm_with_packs(m: usize, k: usize, n: usize, a: Operand, b: Operand, c: &mut [f32]) {
    if m == 0 || n == 0 {
        return;
    }
    if a.pack.is_none() && b.pack.is_none() && reads_unpacked(m, b.rs, b.cs) && gemv(m, k, n, a.data, a.rs, a.cs, b.data, b.rs, b.cs, c) {
        return;
    }
    sgemm_with_packs(m, k, n, a, b, c);
}

/// Whether a product of m rows reads its operands unpacked (`gemv`): a row or two of A, and B's
/// rows or columns contiguous.
pub(crate) fn reads_unpacked(m: usize, b_rs: usize, b_cs: usize) -> bool {
    m <= GEMV_MAX_ROWS && (b_cs == 1 || b_rs == 1)
}

/// Products of at least this many multiply-adds (~30 us on one thread) are split across the CPU
/// threads; below it, waking the workers costs about what they would save.
const PARALLEL_MIN_MACS: usize = 1 << 20;

/// C (m x n, row-major, overwritten) = A B, A and B read through (row, column) strides: the
/// packed GEMM of this target (wasm SIMD128 in the browser, matrixmultiply natively), split across
/// the CPU threads (src/threads.rs) when it is large: by rows of C where each thread gets enough
/// to fill its packed blocks of A, else by columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sgemm(m: usize, k: usize, n: usize, a: &[f32], a_rs: usize, a_cs: usize, b: &[f32], b_rs: usize, b_cs: usize, c: &mut [f32]) {
    sgemm_with_packs(m, k, n, Operand { data: a, rs: a_rs, cs: a_cs, pack: None }, Operand { data: b, rs: b_rs, cs: b_cs, pack: None }, c)
}

/// One operand of `sgemm_with_packs`: the matrix through (row, column) strides, and the whole
/// pack of it in the GEMM's panel order when it keeps one (src/ops/packed_weights.rs), which the
/// browser's GEMM then reads instead of packing as it goes.
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    /// The matrix, read through the strides (unused when the operand comes packed).
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
    pub pack: Option<PackedView<'a>>,
}

/// A whole packed operand: panels in the GEMM's order, its rows (A) or columns (B) rounded up to
/// `padded`.
#[derive(Clone, Copy)]
pub(crate) struct PackedView<'a> {
    pub data: &'a [f32],
    pub padded: usize,
}

impl Pack {
    pub(crate) fn view(&self) -> PackedView<'_> {
        PackedView { data: &self.data, padded: self.padded }
    }
}

/// `sgemm` with operands that may come packed.
pub(crate) fn sgemm_with_packs(m: usize, k: usize, n: usize, a: Operand, b: Operand, c: &mut [f32]) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c[..m * n].fill(0.0);
        return;
    }
    assert!(c.len() >= m * n, "sgemm's C is smaller than its shape");
    match a.pack {
        Some(p) => assert!(p.padded >= m && p.data.len() >= p.padded * k, "A's pack is smaller than A"),
        None => assert!((m - 1) * a.rs + (k - 1) * a.cs < a.data.len(), "sgemm's A is smaller than its shape"),
    }
    match b.pack {
        Some(p) => assert!(p.padded >= n && p.data.len() >= p.padded * k, "B's pack is smaller than B"),
        None => assert!((k - 1) * b.rs + (n - 1) * b.cs < b.data.len(), "sgemm's B is smaller than its shape"),
    }
    let cp = threads::Shared::new(c.as_mut_ptr());
    // Rows first.. of A, columns first.. of B, as the block GEMM reads them (operands are shared
    // slices: tasks on other threads read them as they are).
    let a_from = |first: usize| match a.pack {
        Some(p) => BlockOperand::Packed { data: p.data.as_ptr(), padded: p.padded, first },
        None => BlockOperand::Strided { at: a.data[first * a.rs..].as_ptr(), rs: a.rs, cs: a.cs },
    };
    let b_from = |first: usize| match b.pack {
        Some(p) => BlockOperand::Packed { data: p.data.as_ptr(), padded: p.padded, first },
        None => BlockOperand::Strided { at: b.data[first * b.cs..].as_ptr(), rs: b.rs, cs: b.cs },
    };
    // SAFETY (every call below): A is read at i*a.rs + kk*a.cs for i < m, kk < k, B at
    // kk*b.rs + j*b.cs: both were checked against the slices above, as were the packs' sizes
    // (whole packs of A and B, so any row/column range of them is inside). C is the m x n
    // row-major slice `c`, exclusively borrowed; concurrent tasks write disjoint rows or
    // columns of it. (Small products, most of a training step's, go straight to one call: no
    // split is made.)
    if m * k * n >= PARALLEL_MIN_MACS {
        // A few tasks per thread: a thread that the system preempts mid-task then holds up the
        // others for a smaller share. Row and column starts are multiples of the micro-kernel's
        // 4 rows and 8 columns, where packed panels start.
        let rows = threads::split(m, 64, 4, 4);
        if rows.len() > 1 {
            return threads::run_tasks(rows.len(), &|t| {
                let r = rows[t].clone();
                unsafe { sgemm_block(r.len(), k, n, a_from(r.start), b_from(0), cp.get().add(r.start * n), n) };
            });
        }
        let cols = threads::split(n, 128, 8, 4);
        if cols.len() > 1 {
            return threads::run_tasks(cols.len(), &|t| {
                let j = cols[t].clone();
                unsafe { sgemm_block(m, k, j.len(), a_from(0), b_from(j.start), cp.get().add(j.start), n) };
            });
        }
    }
    unsafe { sgemm_block(m, k, n, a_from(0), b_from(0), cp.get(), n) };
}

/// What `sgemm_block` reads an operand from.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::sgemm_wasm::Operand as BlockOperand;

/// What `sgemm_block` reads an operand from (natively, never a pack: see packed_weights.rs).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[derive(Clone, Copy)]
enum BlockOperand {
    Strided { at: *const f32, rs: usize, cs: usize },
    #[allow(dead_code)]
    Packed { data: *const f32, padded: usize, first: usize },
}

/// C (m x n, rows `ldc` apart) = A B on this thread.
///
/// # Safety
/// A strided A must be readable at i*rs + kk*cs, B at kk*rs + j*cs, C writable at i*ldc + j,
/// for i < m, kk < k, j < n; a packed operand must hold those rows (columns); k > 0.
unsafe fn sgemm_block(m: usize, k: usize, n: usize, a: BlockOperand, b: BlockOperand, c: *mut f32, ldc: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    super::sgemm_wasm::sgemm(m, k, n, a, b, c, ldc);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    match (a, b) {
        (BlockOperand::Strided { at: a, rs: a_rs, cs: a_cs }, BlockOperand::Strided { at: b, rs: b_rs, cs: b_cs }) => {
            matrixmultiply::sgemm(m, k, n, 1.0, a, a_rs as isize, a_cs as isize, b, b_rs as isize, b_cs as isize, 0.0, c, ldc as isize, 1)
        }
        _ => unreachable!("packs are made only for the browser's GEMM"),
    }
}

#[cfg(test)]
mod tests {
    use crate::{ops, Device, Tensor};

    /// Products large enough to be split across the CPU threads (by rows, by columns, and a batch
    /// of small products a few per task), against a plain triple loop.
    #[test]
    fn products_split_across_threads_match_a_triple_loop() {
        #[cfg(not(target_arch = "wasm32"))]
        crate::threads::start_native_workers(2);
        for (batch, m, k, n, ta) in [(1, 300, 200, 500, false), (1, 20, 700, 900, true), (256, 16, 16, 17, false)] {
            let av: Vec<f32> = (0..batch * m * k).map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0).collect();
            let bv: Vec<f32> = (0..batch * k * n).map(|i| ((i * 53 % 29) as f32 - 14.0) / 9.0).collect();
            let a = Tensor::from_f32(&Device::Cpu, &av, &if ta { [batch, k, m] } else { [batch, m, k] }).unwrap();
            let b = Tensor::from_f32(&Device::Cpu, &bv, &[batch, k, n]).unwrap();
            let got = ops::matmul(&a, &b, ta, false).unwrap().to_words_sync().unwrap();
            for z in 0..batch {
                for i in 0..m {
                    for j in 0..n {
                        let want: f32 = (0..k).map(|p| av[z * m * k + if ta { p * m + i } else { i * k + p }] * bv[z * k * n + p * n + j]).sum();
                        let g = f32::from_bits(got[(z * m + i) * n + j]);
                        assert!((g - want).abs() <= 1e-3 * (1.0 + want.abs()), "{batch}x{m}x{k}x{n} [{z},{i},{j}]: {g} vs {want}");
                    }
                }
            }
        }
    }

    /// The unpacked path for one or two rows of A, in every transpose layout, against a plain
    /// triple loop (and the packed path at three rows).
    #[test]
    fn few_row_products_match_a_triple_loop() {
        for (m, k, n) in [(1, 7, 13), (2, 33, 5), (1, 256, 40), (3, 9, 11)] {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                let av: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0).collect();
                let bv: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 29) as f32 - 14.0) / 9.0).collect();
                let a = Tensor::from_f32(&Device::Cpu, &av, &if ta { [k, m] } else { [m, k] }).unwrap();
                let b = Tensor::from_f32(&Device::Cpu, &bv, &if tb { [n, k] } else { [k, n] }).unwrap();
                let got = ops::matmul(&a, &b, ta, tb).unwrap().to_words_sync().unwrap();
                for i in 0..m {
                    for j in 0..n {
                        let want: f32 = (0..k).map(|p| av[if ta { p * m + i } else { i * k + p }] * bv[if tb { j * k + p } else { p * n + j }]).sum();
                        let g = f32::from_bits(got[i * n + j]);
                        assert!((g - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}x{k}x{n} ta {ta} tb {tb} [{i},{j}]: {g} vs {want}");
                    }
                }
            }
        }
    }
}
