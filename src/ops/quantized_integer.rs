//! Integer products over 8-bit packed weights (ONNX MatMulInteger, onnxruntime's quantize_dynamic
//! models): out[m, n] = sum over k of a[m, k] (code[k, n] - zero[n]), exact in int32. The CPU in
//! the browser multiplies pairs of 16-bit integers with `i32x4.dot_i16x8_s`, eight multiply-adds
//! an instruction (twice the f32 GEMM's), in 4 x 8 tiles; elsewhere (native CPU, GPU) the float
//! kernel runs and the sums are exact while they stay below 2^24 in magnitude.
use super::quantized_matmul::{quantized_matmul, QuantizedMatrix};
use crate::tensor::common_device;
use crate::{bail, ops, DType, Result, Tensor};

const OP: &str = "quantized_matmul_integer";

/// a [..., k] (int32 values in [-32768, 32767], zero point already subtracted) times an 8-bit
/// weight of one block a column whose scales are 1 (as MatMulInteger's packing makes it):
/// [..., n] int32.
pub fn quantized_matmul_integer(a: &Tensor, w: &QuantizedMatrix) -> Result<Tensor> {
    if a.dtype() != DType::I32 || a.rank() == 0 || a.shape()[a.rank() - 1] != w.k || w.bits != 8 || w.k > w.block {
        bail!(OP, "a must be int32 [..., {}] for an 8-bit [{}, {}] weight of one block a column, got {} {:?} ({}-bit, blocks of {})", w.k, w.k, w.n, a.dtype(), a.shape(), w.bits, w.block);
    }
    common_device(OP, &[a, &w.codes])?;
    let mut shape = a.shape().to_vec();
    *shape.last_mut().unwrap() = w.n;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if let Some(y) = simd::product(a, w)? {
        return y.reshape_to(&shape);
    }
    let y = quantized_matmul(&ops::cast(a, DType::F32)?, w)?;
    ops::cast(&ops::round(&y)?, DType::I32)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;
    use std::rc::Rc;

    use super::OP;
    use crate::ops::QuantizedMatrix;
    use crate::tensor::{alloc_words, Storage};
    use crate::{bail, DType, Device, Result, Tensor};

    /// The product on the CPU backend for four rows or more (None otherwise: the float kernel's
    /// decoding path serves a row or three).
    pub fn product(a: &Tensor, w: &QuantizedMatrix) -> Result<Option<Tensor>> {
        let m = a.numel() / w.k.max(1);
        if !matches!(a.device(), Device::Cpu) || m < MR {
            return Ok(None);
        }
        let (words, codes, scales) = (a.cpu_words()?, w.codes.cpu_words()?, w.scales.cpu_words()?);
        if scales.iter().any(|&s| f32::from_bits(s) != 1.0) {
            bail!(OP, "the weight's scales must be 1 (integer codes)");
        }
        let zeros = w.zero_points.as_ref().map(|z| z.cpu_words()).transpose()?;
        let zero_of = |c: usize| zeros.as_ref().map_or(128, |z| f32::from_bits(z[c]) as i32);
        let mut out = alloc_words(OP, m * w.n)?;
        gemm(bytemuck::cast_slice(&words), m, w.k, w.n, &codes, w.block, &zero_of, bytemuck::cast_slice_mut(&mut out))?;
        Ok(Some(Tensor::from_storage(a.device(), Rc::new(Storage::cpu(out)), vec![m, w.n], DType::I32)))
    }

    /// Rows and columns a micro-kernel call produces.
    const MR: usize = 4;
    const NR: usize = 8;

    /// out [m, n] (int32) = a [m, k] (code - zero) over the 8-bit codes of W^T ([n, block / 4]
    /// words a column, codes along k).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(a: &[i32], m: usize, k: usize, n: usize, codes: &[u32], block: usize, zero_of: &dyn Fn(usize) -> i32, out: &mut [i32]) -> Result<()> {
        if let Some(bad) = a.iter().find(|v| !(-32768..=32767).contains(*v)) {
            bail!(OP, "a value {bad} of A minus its zero point does not fit 16 bits");
        }
        let pairs = k.div_ceil(2);
        // A as one i32 a row and k-pair: (a[2p] as u16) | a[2p + 1] << 16, rows padded to MR.
        let rows = m.next_multiple_of(MR);
        let mut ap = vec![0i32; rows * pairs];
        for r in 0..m {
            for p in 0..pairs {
                let lo = a[r * k + 2 * p] as u16 as u32;
                let hi = if 2 * p + 1 < k { a[r * k + 2 * p + 1] as u16 as u32 } else { 0 };
                ap[r * pairs + p] = (lo | hi << 16) as i32;
            }
        }
        let bytes: &[u8] = bytemuck::cast_slice(codes);
        // B panel of NR columns: per k-pair two i16x8 of (b[2p, c], b[2p + 1, c]) for 4 columns each.
        let mut panel = vec![0i16; pairs * NR * 2];
        for c0 in (0..n).step_by(NR) {
            let cols = NR.min(n - c0);
            panel.fill(0);
            for j in 0..cols {
                let zero = zero_of(c0 + j);
                let col = &bytes[(c0 + j) * block..(c0 + j) * block + k];
                for (kk, &code) in col.iter().enumerate() {
                    panel[(kk / 2) * NR * 2 + j * 2 + kk % 2] = (code as i32 - zero) as i16;
                }
            }
            for r0 in (0..m).step_by(MR) {
                let acc = kernel(&ap[r0 * pairs..(r0 + MR) * pairs], pairs, &panel);
                for (i, row) in acc.iter().enumerate().take(MR.min(m - r0)) {
                    out[(r0 + i) * n + c0..][..cols].copy_from_slice(&row[..cols]);
                }
            }
        }
        Ok(())
    }

    /// The MR x NR tile: 8 i32x4 accumulators, two B vectors and one splat of A live at a time.
    fn kernel(ap: &[i32], pairs: usize, panel: &[i16]) -> [[i32; NR]; MR] {
        assert!(ap.len() >= MR * pairs && panel.len() >= pairs * NR * 2);
        let mut acc = [[i32x4_splat(0); 2]; MR];
        let (a, b) = (ap.as_ptr(), panel.as_ptr());
        for p in 0..pairs {
            // SAFETY: p < pairs, so B's two vectors at p * 16 and A's MR values at r * pairs + p
            // lie within the slices checked above; v128_load takes any alignment.
            unsafe {
                let b0 = v128_load(b.add(p * NR * 2) as *const v128);
                let b1 = v128_load(b.add(p * NR * 2 + 8) as *const v128);
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = i32x4_splat(*a.add(r * pairs + p));
                    row[0] = i32x4_add(row[0], i32x4_dot_i16x8(av, b0));
                    row[1] = i32x4_add(row[1], i32x4_dot_i16x8(av, b1));
                }
            }
        }
        let mut out = [[0i32; NR]; MR];
        for (o, row) in out.iter_mut().zip(&acc) {
            let lanes = |v: v128| [i32x4_extract_lane::<0>(v), i32x4_extract_lane::<1>(v), i32x4_extract_lane::<2>(v), i32x4_extract_lane::<3>(v)];
            o[..4].copy_from_slice(&lanes(row[0]));
            o[4..].copy_from_slice(&lanes(row[1]));
        }
        out
    }
}
