//! The CPU backend's f32 GEMM in the browser: packed panels and a 4x8 wasm SIMD128 micro-kernel.
//! Natively matrixmultiply's AVX/FMA kernels are the better choice and are used. In wasm its 8x8
//! kernel keeps 16 vector accumulators, more than the 15 SIMD registers V8 allocates on x86-64
//! (xmm15 is its scratch), so it spills every iteration: 22.8 GFLOP/s at 2048^3. Wasm has no
//! fused multiply-add, so each product needs a temporary too: 6x8 (12 accumulators + 2 B + 1 A
//! + 1 product) still spilled (27.8); 4x8 (8 + 2 + 1 + 1) does not: 38.3 GFLOP/s, against
//! 32.2 for TF.js-wasm's XNNPACK in the same Chromium run.
use core::arch::wasm32::*;

/// Rows of A (and C) per micro-kernel call.
const MR: usize = 4;
/// Columns of B (and C) per micro-kernel call: two v128.
const NR: usize = 8;
/// k per packed block: an 8-column B panel (8 KiB) stays in L1 while A panels stream past it.
const KC: usize = 256;
/// Rows of A packed at once (multiple of MR): 48 x 256 floats, 48 KiB, fit L2 (96 was slower).
const MC: usize = 48;
/// Columns of B packed at once: 256 x 512 floats, 512 KiB.
const NC: usize = 512;

/// Where the GEMM reads an operand: the matrix through (row, column) strides in elements, packed
/// block by block as it goes; or a whole packed copy made beforehand (`pack_whole_a`/`_b`: a
/// weight reused across calls), starting at its row (A) or column (B) `first`, a multiple of MR
/// (A) or NR (B).
#[derive(Clone, Copy)]
pub enum Operand {
    Strided { at: *const f32, rs: usize, cs: usize },
    Packed { data: *const f32, padded: usize, first: usize },
}

/// C (m x n, rows `ldc` apart, overwritten) = A (m x k) B (k x n). In the relaxed-SIMD build this
/// function and its micro-kernel carry the feature, so they inline into each other. (LLVM's wasm
/// backend gives every function of a module the union of their features, so the rest of that
/// build may use relaxed instructions too, as a crate-wide flag would.)
///
/// # Safety
/// A strided `a` must be readable at every i * rs + p * cs for i < m, p < k; a strided `b` at
/// every p * rs + j * cs for p < k, j < n; a packed one must hold rows first..first + m (A) or
/// columns first..first + n (B) of a pack of at least k; `c` writable at every i * ldc + j for
/// i < m, j < n.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub unsafe fn sgemm(m: usize, k: usize, n: usize, a: Operand, b: Operand, c: *mut f32, ldc: usize) {
    if k == 0 {
        for i in 0..m {
            core::ptr::write_bytes(c.add(i * ldc), 0, n);
        }
        return;
    }
    let mut a_pack = match a {
        Operand::Strided { .. } => vec![0f32; MC.min(m.next_multiple_of(MR)) * KC.min(k)],
        Operand::Packed { .. } => Vec::new(),
    };
    let mut b_pack = match b {
        Operand::Strided { .. } => vec![0f32; NC.min(n).next_multiple_of(NR) * KC.min(k)],
        Operand::Packed { .. } => Vec::new(),
    };
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let b_panels = match b {
                Operand::Strided { at, rs, cs } => {
                    pack_b(&mut b_pack, kc, nc, at.add(pc * rs + jc * cs), rs as isize, cs as isize);
                    b_pack.as_ptr()
                }
                Operand::Packed { data, padded, first } => data.add(pc * padded + (first + jc) * kc),
            };
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let a_panels = match a {
                    Operand::Strided { at, rs, cs } => {
                        pack_a(&mut a_pack, mc, kc, at.add(ic * rs + pc * cs), rs as isize, cs as isize);
                        a_pack.as_ptr()
                    }
                    Operand::Packed { data, padded, first } => data.add(pc * padded + (first + ic) * kc),
                };
                for jr in (0..nc).step_by(NR) {
                    let bp = b_panels.add(jr * kc);
                    for ir in (0..mc).step_by(MR) {
                        let ap = a_panels.add(ir * kc);
                        let cp = c.add((ic + ir) * ldc + jc + jr);
                        kernel(kc, ap, bp, cp, ldc, MR.min(mc - ir), NR.min(nc - jr), pc > 0);
                    }
                }
            }
        }
    }
}

/// The whole of A (m x k, read through strides) packed as `sgemm` reads it: for each block of KC
/// k, all rows as panels of MR (zero-padded to `m` rounded up to MR), so a block of rows starts at
/// `pc * padded + row * kc`. Returns the pack and `padded`.
///
/// # Safety
/// `a` must be readable at every i * rs + p * cs for i < m, p < k.
pub unsafe fn pack_whole_a(m: usize, k: usize, a: *const f32, rs: isize, cs: isize) -> (Vec<f32>, usize) {
    let padded = m.next_multiple_of(MR);
    let mut data = vec![0f32; padded * k];
    for pc in (0..k).step_by(KC) {
        let kc = KC.min(k - pc);
        pack_a(&mut data[pc * padded..pc * padded + padded * kc], m, kc, a.offset(pc as isize * cs), rs, cs);
    }
    (data, padded)
}

/// The whole of B (k x n, read through strides) packed as `sgemm` reads it: for each block of KC
/// k, all columns as panels of NR (zero-padded to `n` rounded up to NR). Returns the pack and
/// `padded`.
///
/// # Safety
/// `b` must be readable at every p * rs + j * cs for p < k, j < n.
pub unsafe fn pack_whole_b(k: usize, n: usize, b: *const f32, rs: isize, cs: isize) -> (Vec<f32>, usize) {
    let padded = n.next_multiple_of(NR);
    let mut data = vec![0f32; padded * k];
    for pc in (0..k).step_by(KC) {
        let kc = KC.min(k - pc);
        pack_b(&mut data[pc * padded..pc * padded + padded * kc], kc, n, b.offset(pc as isize * rs), rs, cs);
    }
    (data, padded)
}

/// Packs mc x kc of A as row panels of MR: panel p holds, for each k, its MR rows (zero-padded).
unsafe fn pack_a(dst: &mut [f32], mc: usize, kc: usize, a: *const f32, rsa: isize, csa: isize) {
    for (panel, rows) in (0..mc).step_by(MR).enumerate() {
        let out = &mut dst[panel * MR * kc..(panel + 1) * MR * kc];
        let live = MR.min(mc - rows);
        // Row-major A (an activation, im2col columns): four rows at a time, four k per step, as
        // a 4x4 transpose in registers instead of sixteen scalar moves.
        let mut p = 0;
        if live == MR && csa == 1 {
            let row = |i: usize| a.offset((rows + i) as isize * rsa);
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            while p + 4 <= kc {
                let load = |r: *const f32| v128_load(r.add(p) as *const v128);
                let (x0, x1, x2, x3) = (load(r0), load(r1), load(r2), load(r3));
                let lo01 = i32x4_shuffle::<0, 4, 1, 5>(x0, x1); // a0 b0 a1 b1
                let hi01 = i32x4_shuffle::<2, 6, 3, 7>(x0, x1); // a2 b2 a3 b3
                let lo23 = i32x4_shuffle::<0, 4, 1, 5>(x2, x3); // c0 d0 c1 d1
                let hi23 = i32x4_shuffle::<2, 6, 3, 7>(x2, x3); // c2 d2 c3 d3
                let o = out.as_mut_ptr().add(p * MR) as *mut v128;
                v128_store(o, i64x2_shuffle::<0, 2>(lo01, lo23)); // a0 b0 c0 d0
                v128_store(o.add(1), i64x2_shuffle::<1, 3>(lo01, lo23));
                v128_store(o.add(2), i64x2_shuffle::<0, 2>(hi01, hi23));
                v128_store(o.add(3), i64x2_shuffle::<1, 3>(hi01, hi23));
                p += 4;
            }
        }
        for p in p..kc {
            for i in 0..MR {
                out[p * MR + i] = if i < live {
                    *a.offset((rows + i) as isize * rsa + p as isize * csa)
                } else {
                    0.0
                };
            }
        }
    }
}

/// Packs kc x nc of B as column panels of NR: panel q holds, for each k, its NR columns.
unsafe fn pack_b(dst: &mut [f32], kc: usize, nc: usize, b: *const f32, rsb: isize, csb: isize) {
    for (panel, cols) in (0..nc).step_by(NR).enumerate() {
        let out = &mut dst[panel * NR * kc..(panel + 1) * NR * kc];
        let live = NR.min(nc - cols);
        for p in 0..kc {
            let row = b.offset(p as isize * rsb + cols as isize * csb);
            if live == NR && csb == 1 {
                core::ptr::copy_nonoverlapping(row, out.as_mut_ptr().add(p * NR), NR);
            } else {
                for j in 0..NR {
                    out[p * NR + j] = if j < live { *row.offset(j as isize * csb) } else { 0.0 };
                }
            }
        }
    }
}

/// acc + a b: one fused multiply-add in the relaxed-SIMD build (pkg/webtensor_relaxed_bg.wasm,
/// loaded where the engine validates relaxed SIMD), a multiply and an add in the plain one.
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline, target_feature(enable = "relaxed-simd"))]
fn madd(acc: v128, a: v128, b: v128) -> v128 {
    #[cfg(feature = "relaxed-simd")]
    return f32x4_relaxed_madd(a, b, acc);
    #[cfg(not(feature = "relaxed-simd"))]
    f32x4_add(acc, f32x4_mul(a, b))
}

/// C[0..rows, 0..cols] (row stride ldc) = (or += when `accumulate`) the packed panels' product.
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(feature = "relaxed-simd", inline, target_feature(enable = "relaxed-simd"))]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel(kc: usize, mut ap: *const f32, mut bp: *const f32, c: *mut f32, ldc: usize, rows: usize, cols: usize, accumulate: bool) {
    let z = f32x4_splat(0.0);
    let mut acc = [[z; 2]; MR];
    for _ in 0..kc {
        let b0 = v128_load(bp as *const v128);
        let b1 = v128_load(bp.add(4) as *const v128);
        for (i, row) in acc.iter_mut().enumerate() {
            let a = v128_load32_splat(ap.add(i) as *const u32);
            row[0] = madd(row[0], a, b0);
            row[1] = madd(row[1], a, b1);
        }
        ap = ap.add(MR);
        bp = bp.add(NR);
    }
    for (i, row) in acc.iter().enumerate().take(rows) {
        let out = c.add(i * ldc);
        if cols == NR {
            for (h, &v) in row.iter().enumerate() {
                let p = out.add(4 * h) as *mut v128;
                let v = if accumulate { f32x4_add(v128_load(p), v) } else { v };
                v128_store(p, v);
            }
        } else {
            let mut lanes = [0f32; NR];
            v128_store(lanes.as_mut_ptr() as *mut v128, row[0]);
            v128_store(lanes.as_mut_ptr().add(4) as *mut v128, row[1]);
            for (j, &v) in lanes.iter().enumerate().take(cols) {
                *out.add(j) = if accumulate { *out.add(j) + v } else { v };
            }
        }
    }
}
