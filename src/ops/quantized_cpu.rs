//! The CPU kernels of quantized_matmul. Every path decodes one block of codes at a time into a
//! small f32 buffer (code - zero, in order; wasm SIMD128 unpacks 32 4-bit or 16 8-bit codes per
//! vector load; half-precision codes are widened one by one) and applies the block's scale:
//! - a few rows (a decoding step): each decoded block is dotted with each row of x right away, so
//!   the weight is read once and nothing larger than a block is written;
//! - more rows (a prompt): a tile of 64 columns is dequantized and multiplied by the packed f32
//!   GEMM, which then runs at its own speed; the tile (64 x k floats) is the largest f32 copy
//!   (one per thread).
//! Both split W's columns across the CPU threads (src/threads.rs).
use super::matmul::{dot, sgemm};
use crate::threads;

/// Codes that are half-precision values (decoded as halves, not integers).
const HALF_BITS: usize = 16;

/// Rows of x up to which the product decodes blocks into dot products rather than tiles.
const DOT_MAX_ROWS: usize = 3;
/// Columns of W dequantized per tile for the GEMM path.
const TILE: usize = 64;

/// A packed weight's host words, as quantized_matmul.rs lays them out.
pub(super) struct Packed<'a> {
    pub codes: &'a [u32],
    pub scales: &'a [f32],
    pub zeros: Option<&'a [f32]>,
    pub bits: usize,
    pub block: usize,
    pub k: usize,
    pub n: usize,
}

impl Packed<'_> {
    fn blocks(&self) -> usize {
        self.k.div_ceil(self.block)
    }

    fn words(&self) -> usize {
        self.block * self.bits / 32
    }

    fn zero(&self, at: usize) -> f32 {
        let default = if self.bits == HALF_BITS { 0.0 } else { (1u32 << (self.bits - 1)) as f32 };
        self.zeros.map_or(default, |z| z[at])
    }

    fn block_words(&self, at: usize) -> &[u32] {
        &self.codes[at * self.words()..(at + 1) * self.words()]
    }

    /// Block `b` of column `col` as code - zero into buf[..block]; returns (its scale, the number
    /// of rows of W it covers).
    fn centred(&self, col: usize, b: usize, buf: &mut [f32]) -> (f32, usize) {
        let at = col * self.blocks() + b;
        let zero = self.zero(at);
        let words = self.block_words(at);
        if self.bits == HALF_BITS {
            let done = simd_halves(words, zero, buf);
            for (i, v) in buf[..self.block].iter_mut().enumerate().skip(done * 2) {
                *v = crate::dtype::half_at(words, i) - zero;
            }
            return (self.scales[at], self.block.min(self.k - b * self.block));
        }
        let done = simd_centred(words, self.bits, zero, buf);
        let per = 32 / self.bits;
        let mask = (1u32 << self.bits) - 1;
        for i in done * per..self.block {
            buf[i] = ((words[i / per] >> (self.bits * (i % per))) & mask) as f32 - zero;
        }
        (self.scales[at], self.block.min(self.k - b * self.block))
    }

    /// Columns c0..c0 + count of W, dequantized, as rows of `tile` ([count, k]).
    fn dequantize_columns(&self, c0: usize, count: usize, tile: &mut [f32], buf: &mut [f32]) {
        let k = self.k;
        for j in 0..count {
            for b in 0..self.blocks() {
                let (scale, len) = self.centred(c0 + j, b, buf);
                for (t, q) in tile[j * k + b * self.block..][..len].iter_mut().zip(&buf[..len]) {
                    *t = q * scale;
                }
            }
        }
    }
}

/// W^T ([n, k]) dequantized.
pub(super) fn dequantize(w: &Packed, out: &mut [f32]) {
    let mut buf = vec![0f32; w.block];
    w.dequantize_columns(0, w.n, out, &mut buf);
}

/// out [ids, k]: the columns of W that `ids` (checked to be in range) name.
pub(super) fn gather(w: &Packed, ids: &[u32], out: &mut [f32]) {
    let mut buf = vec![0f32; w.block];
    for (i, &id) in ids.iter().enumerate() {
        w.dequantize_columns(id as usize, 1, &mut out[i * w.k..(i + 1) * w.k], &mut buf);
    }
}

/// out [m, n] = x [m, k] W, its columns split across the CPU threads.
pub(super) fn forward(w: &Packed, x: &[f32], m: usize, out: &mut [f32]) {
    let (k, n) = (w.k, w.n);
    assert!(out.len() >= m * n && x.len() >= m * k);
    let out = threads::Shared::new(out.as_mut_ptr());
    // SAFETY (both writers below): `out` holds m rows of n; each task writes only the columns of
    // its own range, in every row.
    let write = |row: usize, col: usize, values: &[f32]| unsafe { std::slice::from_raw_parts_mut(out.get().add(row * n + col), values.len()).copy_from_slice(values) };
    if m <= DOT_MAX_ROWS {
        // A whole block's sum of code * x comes from registers (code_dot); the zero point's share
        // is zero * (the block's sum of x), summed once per row.
        let blocks = w.blocks();
        let x_sums: Vec<f32> = (0..m * blocks).map(|i| x[(i / blocks) * k..][(i % blocks) * w.block..].iter().take(w.block.min(k - (i % blocks) * w.block)).sum()).collect();
        let parts = if m * k * n >= PARALLEL_MIN_MACS { threads::split(n, 16, 1, 4) } else { vec![0..n] };
        threads::run_tasks(parts.len(), &|t| {
            let mut buf = vec![0f32; w.block];
            for col in parts[t].clone() {
                let acc = column_dots(w, x, m, &x_sums, col, &mut buf);
                for (row, a) in acc.iter().enumerate().take(m) {
                    write(row, col, &[*a]);
                }
            }
        });
        return;
    }
    // Tiles of columns: each task dequantizes its own tiles and multiplies them by the GEMM.
    let tiles = threads::split(n.div_ceil(TILE), 1, 1, 2);
    threads::run_tasks(tiles.len(), &|t| {
        let mut buf = vec![0f32; w.block];
        let mut tile = vec![0f32; TILE * k];
        let mut part = vec![0f32; m * TILE];
        for c0 in tiles[t].clone().map(|i| i * TILE) {
            let count = TILE.min(n - c0);
            w.dequantize_columns(c0, count, &mut tile, &mut buf);
            // B [k, count] is the tile read transposed: element (kk, j) at j * k + kk.
            sgemm(m, k, count, x, k, 1, &tile, 1, k, &mut part);
            for row in 0..m {
                write(row, c0, &part[row * count..][..count]);
            }
        }
    });
}

/// Products of at least this many multiply-adds split across the CPU threads.
const PARALLEL_MIN_MACS: usize = 1 << 18;

/// Column `col` of x W for each of x's m (<= DOT_MAX_ROWS) rows.
fn column_dots(w: &Packed, x: &[f32], m: usize, x_sums: &[f32], col: usize, buf: &mut [f32]) -> [f32; DOT_MAX_ROWS] {
    let (k, blocks) = (w.k, w.blocks());
    let mut acc = [0f32; DOT_MAX_ROWS];
    for b in 0..blocks {
        let at = col * blocks + b;
        if (b + 1) * w.block <= k && VECTOR_CODES && w.words() % 4 == 0 {
            let (scale, zero) = (w.scales[at], w.zero(at));
            let mut sums = [Some(0f32); DOT_MAX_ROWS];
            for (row, sum) in sums.iter_mut().enumerate().take(m) {
                *sum = code_dot(w.block_words(at), w.bits, &x[row * k + b * w.block..][..w.block]);
            }
            // (None: halves with an infinity or NaN, which the decoder below widens exactly.)
            if sums.iter().all(Option::is_some) {
                for (row, a) in acc.iter_mut().enumerate().take(m) {
                    *a += scale * (sums[row].unwrap_or(0.0) - zero * x_sums[row * blocks + b]);
                }
                continue;
            }
        }
        let (scale, len) = w.centred(col, b, buf);
        for (row, a) in acc.iter_mut().enumerate().take(m) {
            *a += scale * dot(&x[row * k + b * w.block..][..len], &buf[..len]);
        }
    }
    acc
}

/// out [m, k] = dy [m, n] W^T (the gradient of x).
pub(super) fn transposed(w: &Packed, dy: &[f32], m: usize, out: &mut [f32]) {
    let (k, n) = (w.k, w.n);
    let mut buf = vec![0f32; w.block];
    let mut tile = vec![0f32; TILE * k];
    let mut part = vec![0f32; m * k];
    out[..m * k].fill(0.0);
    for c0 in (0..n).step_by(TILE) {
        let count = TILE.min(n - c0);
        w.dequantize_columns(c0, count, &mut tile, &mut buf);
        sgemm(m, count, k, &dy[c0..], n, 1, &tile, k, 1, &mut part);
        for (o, p) in out.iter_mut().zip(&part) {
            *o += p;
        }
    }
}

/// Whether code_dot takes blocks of whole vectors (4 words) here.
const VECTOR_CODES: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// The sum of code * x over a whole block (x as long as the block), from registers; None where
/// the vector path does not take the block (no SIMD, words not in whole vectors, or halves with
/// an infinity or NaN, which `widen_finite_halves` does not widen).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn code_dot(words: &[u32], bits: usize, x: &[f32]) -> Option<f32> {
    use core::arch::wasm32::*;
    if words.len() % 4 != 0 || x.len() != words.len() * (32 / bits) {
        return None;
    }
    /// acc + the sixteen byte codes of v times x[0..16].
    #[inline(always)]
    fn madd16(v: v128, x: &[f32], acc: v128) -> v128 {
        let (lo, hi) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
        let quads = [u32x4_extend_low_u16x8(lo), u32x4_extend_high_u16x8(lo), u32x4_extend_low_u16x8(hi), u32x4_extend_high_u16x8(hi)];
        let x = &x[..16];
        let mut acc = acc;
        for (i, q) in quads.iter().enumerate() {
            // SAFETY: x has 16 floats; v128_load takes any alignment.
            let xv = unsafe { v128_load(x.as_ptr().add(4 * i) as *const v128) };
            acc = f32x4_add(acc, f32x4_mul(f32x4_convert_u32x4(*q), xv));
        }
        acc
    }
    let bytes: &[u8] = bytemuck::cast_slice(words);
    let nibbles = u8x16_splat(15);
    let (mut a0, mut a1) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut specials = i16x8_splat(0);
    for (c, chunk) in bytes.chunks_exact(16).enumerate() {
        // SAFETY: `chunk` is 16 readable bytes.
        let v = unsafe { v128_load(chunk.as_ptr() as *const v128) };
        if bits == HALF_BITS {
            // SAFETY: x has 8 floats from c * 8 (its length is checked above).
            let (x0, x1) = unsafe { (v128_load(x.as_ptr().add(c * 8) as *const v128), v128_load(x.as_ptr().add(c * 8 + 4) as *const v128)) };
            let (lo, hi) = widen_finite_halves(v);
            a0 = f32x4_add(a0, f32x4_mul(lo, x0));
            a1 = f32x4_add(a1, f32x4_mul(hi, x1));
            specials = v128_or(specials, half_specials(v));
        } else if bits == 8 {
            a0 = madd16(v, &x[c * 16..], a0);
        } else {
            let (lo, hi) = (v128_and(v, nibbles), u8x16_shr(v, 4));
            a0 = madd16(i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(lo, hi), &x[c * 32..], a0);
            a1 = madd16(i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(lo, hi), &x[c * 32 + 16..], a1);
        }
    }
    if v128_any_true(specials) {
        return None;
    }
    let s = f32x4_add(a0, a1);
    Some(f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s) + f32x4_extract_lane::<2>(s) + f32x4_extract_lane::<3>(s))
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn code_dot(_: &[u32], _: usize, _: &[f32]) -> Option<f32> {
    None
}

/// Decodes as many leading words as the vector path takes (into buf, as code - zero); returns
/// how many it did, the rest being the scalar loop's.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd_centred(words: &[u32], bits: usize, zero: f32, buf: &mut [f32]) -> usize {
    use core::arch::wasm32::*;
    /// Sixteen byte codes, in order, as code - zero at out[0..16].
    #[inline(always)]
    fn store16(v: v128, z: v128, out: &mut [f32]) {
        let (lo, hi) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
        let quads = [u32x4_extend_low_u16x8(lo), u32x4_extend_high_u16x8(lo), u32x4_extend_low_u16x8(hi), u32x4_extend_high_u16x8(hi)];
        let dst = &mut out[..16];
        for (i, q) in quads.iter().enumerate() {
            // SAFETY: dst has 16 floats; v128_store takes any alignment.
            unsafe { v128_store(dst.as_mut_ptr().add(4 * i) as *mut v128, f32x4_sub(f32x4_convert_u32x4(*q), z)) };
        }
    }
    let z = f32x4_splat(zero);
    let bytes: &[u8] = bytemuck::cast_slice(words);
    let mut done = 0;
    if bits == 8 {
        for (c, chunk) in bytes.chunks_exact(16).enumerate() {
            // SAFETY: `chunk` is 16 readable bytes; v128_load takes any alignment.
            let v = unsafe { v128_load(chunk.as_ptr() as *const v128) };
            store16(v, z, &mut buf[c * 16..]);
            done += 4;
        }
        return done;
    }
    // 4-bit: byte j holds codes 2j (low nibble) and 2j + 1; interleaving the nibbles puts them in order.
    let nibbles = u8x16_splat(15);
    for (c, chunk) in bytes.chunks(16).enumerate() {
        if chunk.len() < 8 {
            break;
        }
        // SAFETY: 16 (or, for the last 8 bytes, 8) readable bytes at `chunk`.
        let v = unsafe { if chunk.len() == 16 { v128_load(chunk.as_ptr() as *const v128) } else { v128_load64_zero(chunk.as_ptr() as *const u64) } };
        let (lo, hi) = (v128_and(v, nibbles), u8x16_shr(v, 4));
        store16(i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(lo, hi), z, &mut buf[c * 32..]);
        if chunk.len() < 16 {
            return done + 2;
        }
        store16(i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(lo, hi), z, &mut buf[c * 32 + 16..]);
        done += 4;
    }
    done
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn simd_centred(_: &[u32], _: usize, _: f32, _: &mut [f32]) -> usize {
    0
}

/// Widens whole vectors of half-precision codes (four words, eight halves, at a time) into buf
/// as half - zero (`widen_halves`); returns the words done.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd_halves(words: &[u32], zero: f32, buf: &mut [f32]) -> usize {
    use core::arch::wasm32::*;
    let z = f32x4_splat(zero);
    let whole = words.len() / 4;
    for (c, chunk) in words.chunks_exact(4).enumerate() {
        // SAFETY: `chunk` is 16 readable bytes and buf has room for the block's halves (8 per
        // chunk); v128_load and v128_store take any alignment.
        unsafe {
            let v = v128_load(chunk.as_ptr() as *const v128);
            let (lo, hi) = if v128_any_true(half_specials(v)) {
                (widen_halves(u32x4_extend_low_u16x8(v)), widen_halves(u32x4_extend_high_u16x8(v)))
            } else {
                widen_finite_halves(v)
            };
            let dst = buf[c * 8..c * 8 + 8].as_mut_ptr();
            v128_store(dst as *mut v128, f32x4_sub(lo, z));
            v128_store(dst.add(4) as *mut v128, f32x4_sub(hi, z));
        }
    }
    whole * 4
}

/// Four halves (the low 16 bits of each lane) as float32, exactly: the half's bits moved into
/// float32's places and rescaled by 2^112 (the difference of the exponent biases; subnormal
/// halves come out right through the multiply), with exponent 31 (infinities, NaN) made 255.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn widen_halves(h: core::arch::wasm32::v128) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    let (magnitude, exponent) = (u32x4_splat(0x7fff), u32x4_splat(0x7c00));
    let bits = u32x4_shl(v128_and(h, magnitude), 13);
    let special = u32x4_eq(v128_and(h, exponent), exponent);
    let value = v128_bitselect(v128_or(bits, u32x4_splat(0x7f80_0000)), f32x4_mul(bits, f32x4_splat(f32::from_bits((112 + 127) << 23))), special);
    v128_or(value, u32x4_shl(v128_andnot(h, magnitude), 16))
}

/// Eight finite halves (u16 lanes) as two vectors of float32, exactly, in four operations each:
/// sign-extended to 32 bits and shifted, the sign lands on bit 31 and exponent and mantissa in
/// float32's places (the mask clears the extension's copies of the sign); the multiply by 2^112
/// rebiases the exponent (subnormal halves included). Infinities and NaN come out as finite
/// numbers: callers check `half_specials` and take `widen_halves` for those.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn widen_finite_halves(v: core::arch::wasm32::v128) -> (core::arch::wasm32::v128, core::arch::wasm32::v128) {
    use core::arch::wasm32::*;
    let (mask, rebias) = (u32x4_splat(0x8fff_e000), f32x4_splat(f32::from_bits((112 + 127) << 23)));
    let widen = |h: v128| f32x4_mul(v128_and(i32x4_shl(h, 13), mask), rebias);
    (widen(i32x4_extend_low_i16x8(v)), widen(i32x4_extend_high_i16x8(v)))
}

/// Lanes of eight halves that are an infinity or NaN (exponent 31), as all-ones u16 lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn half_specials(v: core::arch::wasm32::v128) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    let exponent = u16x8_splat(0x7c00);
    i16x8_eq(v128_and(v, exponent), exponent)
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn simd_halves(_: &[u32], _: f32, _: &mut [f32]) -> usize {
    0
}
