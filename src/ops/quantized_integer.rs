//! Integer products over 8-bit packed weights (ONNX MatMulInteger, onnxruntime's quantize_dynamic
//! models): out[m, n] = sum over k of (a[m, k] - a_zero) (code[k, n] - zero[n]), exact in int32.
//! The CPU in the browser multiplies pairs of 16-bit integers with `i32x4.dot_i16x8_s`, eight
//! multiply-adds an instruction (twice the f32 GEMM's), in 4 x 2 tiles that read the codes where
//! they lie (the weight is never repacked); elsewhere (native CPU, GPU) the float kernel runs and
//! the sums are exact while they stay below 2^24 in magnitude.
use super::quantized_matmul::{quantized_matmul, QuantizedMatrix};
use crate::tensor::common_device;
use crate::{bail, ops, DType, Result, Tensor};

const OP: &str = "quantized_matmul_integer";

/// (a - a_zero) for a [..., k] (int32; a_zero an int32 scalar, 0 when absent; each difference
/// within 16 bits) times an 8-bit weight of one block a column whose scales are 1 (as
/// MatMulInteger's packing makes it): [..., n] int32.
pub fn quantized_matmul_integer(a: &Tensor, a_zero: Option<&Tensor>, w: &QuantizedMatrix) -> Result<Tensor> {
    if a.dtype() != DType::I32 || a.rank() == 0 || a.shape()[a.rank() - 1] != w.k || w.bits != 8 || w.k > w.block {
        bail!(OP, "a must be int32 [..., {}] for an 8-bit [{}, {}] weight of one block a column, got {} {:?} ({}-bit, blocks of {})", w.k, w.k, w.n, a.dtype(), a.shape(), w.bits, w.block);
    }
    if let Some(z) = a_zero.filter(|z| z.dtype() != DType::I32 || z.numel() != 1) {
        bail!(OP, "a's zero point must be one int32 value, got {} {:?}", z.dtype(), z.shape());
    }
    common_device(OP, &[a, &w.codes])?;
    let mut shape = a.shape().to_vec();
    *shape.last_mut().unwrap() = w.n;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if let Some(y) = simd::product(a, a_zero, w)? {
        return y.reshape_to(&shape);
    }
    let a = match a_zero {
        Some(z) => ops::sub(a, &z.reshape_to(&[])?)?,
        None => a.clone(),
    };
    let y = quantized_matmul(&ops::cast(&a, DType::F32)?, w)?;
    ops::cast(&ops::round(&y)?, DType::I32)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;
    use std::rc::Rc;

    use super::OP;
    use crate::ops::QuantizedMatrix;
    use crate::tensor::{alloc_words, Storage};
    use crate::{bail, threads, DType, Device, Result, Tensor};

    /// The product on the CPU backend for four rows or more (None otherwise: the float kernel's
    /// decoding path serves a row or three).
    pub fn product(a: &Tensor, a_zero: Option<&Tensor>, w: &QuantizedMatrix) -> Result<Option<Tensor>> {
        let m = a.numel() / w.k.max(1);
        if !matches!(a.device(), Device::Cpu) || m < MR {
            return Ok(None);
        }
        let a_zero = match a_zero {
            Some(z) => z.cpu_words()?[0] as i32,
            None => 0,
        };
        let (words, codes, scales) = (a.cpu_words()?, w.codes.cpu_words()?, w.scales.cpu_words()?);
        if scales.iter().any(|&s| f32::from_bits(s) != 1.0) {
            bail!(OP, "the weight's scales must be 1 (integer codes)");
        }
        let zeros = w.zero_points.as_ref().map(|z| z.cpu_words()).transpose()?;
        let zero_of = |c: usize| zeros.as_ref().map_or(128, |z| f32::from_bits(z[c]) as i32);
        let mut out = alloc_words(OP, m * w.n)?;
        gemm(bytemuck::cast_slice(&words), a_zero, m, w.k, w.n, &codes, w.block, &zero_of, bytemuck::cast_slice_mut(&mut out))?;
        Ok(Some(Tensor::from_storage(a.device(), Rc::new(Storage::cpu(out)), vec![m, w.n], DType::I32)))
    }

    /// Products of at least this many multiply-adds split across the CPU threads.
    const PARALLEL_MIN_MACS: usize = 1 << 18;

    /// Rows and columns a micro-kernel call produces: 8 accumulators, 4 A vectors and a B vector
    /// live at once, within x86's 16 vector registers (where V8 runs most).
    const MR: usize = 4;
    const NR: usize = 2;
    /// k values a step reads: one i16x8 of A a row, 8 codes of B a column.
    const KS: usize = 8;

    /// out [m, n] (int32) = (a [m, k] - a_zero) (code - zero) over the 8-bit codes of W^T
    /// ([n, block / 4] words a column, codes along k). The codes are read where they lie (8
    /// consecutive k of a column widen to an i16x8 in one load), so the weight is never
    /// repacked; A is narrowed to i16 rows once. Sums wrap in int32 as MatMulInteger's do.
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(a: &[i32], a_zero: i32, m: usize, k: usize, n: usize, codes: &[u32], block: usize, zero_of: &dyn Fn(usize) -> i32, out: &mut [i32]) -> Result<()> {
        if k == 0 {
            out.fill(0);
            return Ok(());
        }
        // A minus its zero point as i16 rows of k (rows padded to MR with zeros).
        let rows = m.next_multiple_of(MR);
        let mut ap = vec![0i16; rows * k];
        for (dst, &v) in ap.iter_mut().zip(a) {
            let centred = v.wrapping_sub(a_zero);
            if !(-32768..=32767).contains(&centred) {
                bail!(OP, "a value {centred} of A minus its zero point does not fit 16 bits");
            }
            *dst = centred as i16;
        }
        let bytes: &[u8] = bytemuck::cast_slice(codes);
        let zeros: Vec<i32> = (0..n).map(zero_of).collect();
        let whole = k - k % KS;
        // The kernel multiplies the codes as stored; sum of a (code - zero) is that minus zero
        // times the row's sum of a (over the same k), so no subtraction runs per code.
        let row_sums: Vec<i32> = ap.chunks_exact(k.max(1)).map(|row| row[..whole].iter().fold(0i32, |s, &v| s.wrapping_add(v as i32))).collect();
        // Columns outermost: a column pair (2 k bytes) stays in L1 while every row tile reads it.
        // Ranges of columns split across the CPU threads when the product is large.
        assert!(out.len() >= m * n);
        let parts = if m * k * n >= PARALLEL_MIN_MACS { threads::split(n, 4 * NR, NR, 4) } else { vec![0..n] };
        let out = threads::Shared::new(out.as_mut_ptr());
        threads::run_tasks(parts.len(), &|t| {
            for c0 in parts[t].clone().step_by(NR) {
                for r0 in (0..m).step_by(MR) {
                    let tile = if c0 + NR <= n { kernel::<NR>(&ap, k, whole, r0, bytes, block, c0) } else { widen(kernel::<1>(&ap, k, whole, r0, bytes, block, c0)) };
                    for (i, row) in tile.iter().enumerate().take(MR.min(m - r0)) {
                        for (j, &sum) in row.iter().enumerate().take(NR.min(n - c0)) {
                            let (r, c) = (r0 + i, c0 + j);
                            // The k % 8 values past the last whole step.
                            let tail: i32 = (whole..k).map(|kk| (ap[r * k + kk] as i32).wrapping_mul(bytes[c * block + kk] as i32 - zeros[c])).fold(0, i32::wrapping_add);
                            // SAFETY: r < m, c < n (asserted room); column c is this task's alone.
                            unsafe { *out.get().add(r * n + c) = sum.wrapping_sub(zeros[c].wrapping_mul(row_sums[r])).wrapping_add(tail) };
                        }
                    }
                }
            }
        });
        Ok(())
    }

    fn widen(tile: [[i32; 1]; MR]) -> [[i32; NR]; MR] {
        tile.map(|[v]| [v, 0])
    }

    /// The MR x C tile's sums of a times the stored codes over k in [0, whole) (whole a multiple
    /// of KS).
    fn kernel<const C: usize>(ap: &[i16], k: usize, whole: usize, r0: usize, bytes: &[u8], block: usize, c0: usize) -> [[i32; C]; MR] {
        assert!(whole <= k && (r0 + MR) * k <= ap.len() && C > 0 && (c0 + C - 1) * block + whole <= bytes.len());
        let mut acc = [[i32x4_splat(0); C]; MR];
        let (a, b) = (ap.as_ptr(), bytes.as_ptr());
        for kk in (0..whole).step_by(KS) {
            // SAFETY: kk + KS <= whole, so A's row r0 + r reads [(r0 + r) k + kk, + 8) within ap
            // and column c0 + j reads bytes [(c0 + j) block + kk, + 8) within bytes (asserted
            // above); loads take any alignment.
            unsafe {
                let av: [v128; MR] = core::array::from_fn(|r| v128_load(a.add((r0 + r) * k + kk) as *const v128));
                for j in 0..C {
                    let bv = u16x8_load_extend_u8x8(b.add((c0 + j) * block + kk));
                    for r in 0..MR {
                        acc[r][j] = i32x4_add(acc[r][j], i32x4_dot_i16x8(av[r], bv));
                    }
                }
            }
        }
        acc.map(|row| {
            row.map(|v| i32x4_extract_lane::<0>(v).wrapping_add(i32x4_extract_lane::<1>(v)).wrapping_add(i32x4_extract_lane::<2>(v)).wrapping_add(i32x4_extract_lane::<3>(v)))
        })
    }
}
