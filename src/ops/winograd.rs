//! 3x3 stride-1 convolutions on the CPU by Winograd's F(2x2, 3x3) (Lavin & Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of outputs is computed
//! from a 4x4 patch of input with 16 multiplies per (input, output) channel pair instead of 36.
//! Input patches and filters are moved into a transform space where the convolution becomes 16
//! independent matrix products, [M x C] (filters) times [C x tiles] (patches), one per position
//! of the 4x4 transform; the products' results move back to 2x2 output blocks. Against im2col and
//! one GEMM: 2.25x fewer multiply-adds, and the patches take 16/4 = 4 floats per input pixel and
//! channel instead of im2col's 9 per output pixel. Error is a few ulps more than the direct sum's
//! (the transforms' coefficients are 0, +-1 and +-1/2).
//!
//! The transformed filters of a weight are kept like a GEMM pack (src/ops/packed_weights.rs):
//! made on the second convolution that reads the weight, already in the GEMM's panel layout.
use std::rc::Rc;

use super::im2col::Geometry;
use super::matmul::{gemm_with_packs, Operand, PackedView};
use super::packed_weights::{packed_weight_with, Layout, Pack, Side};
use crate::{threads, Tensor};

/// Positions of the 4x4 transform: one matrix product each.
const POSITIONS: usize = 16;

/// Whether the CPU convolution of this geometry (one group of `c` input and `m` output channels)
/// runs here: 3x3, stride 1, no dilation, and enough channels that the 16 products are real
/// GEMMs (for a handful of channels the transforms would cost more than they save).
pub(crate) fn applies(g: &Geometry, c: usize, m: usize) -> bool {
    g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && c >= 8 && m >= 8 && g.oh >= 2 && g.ow >= 2
}

/// Tiles of 2x2 outputs: (rows, columns).
fn tiles(g: &Geometry) -> (usize, usize) {
    (g.oh.div_ceil(2), g.ow.div_ceil(2))
}

/// A weight's filters in transform space: kept beside the weight (packed per position for the
/// browser's GEMM), or made for this call ([16][m][c], read through strides).
pub(crate) enum Filters {
    Kept(Rc<Pack>),
    Made(Vec<f32>),
}

impl Filters {
    /// The filters [m, c, 3, 3] of `weight` (whose values are `values`) in transform space.
    pub(crate) fn of(weight: &Tensor, values: &[f32], c: usize, m: usize) -> Filters {
        let layout = Layout { side: Side::WinogradNchw, offset: 0, rows: m, k: c, rs: 0, cs: 0 };
        match packed_weight_with(weight, layout, || pack_filters(values, c, m)) {
            Some(kept) => Filters::Kept(kept),
            None => Filters::Made(transform_filters(values, c, m)),
        }
    }

    /// Position xi's [m x c] matrix as a GEMM operand.
    fn at(&self, xi: usize, c: usize, m: usize) -> Operand<'_> {
        match self {
            Filters::Kept(p) => Operand { data: &[], rs: c, cs: 1, pack: Some(PackedView { data: &p.data[xi * p.padded * c..(xi + 1) * p.padded * c], padded: p.padded }) },
            Filters::Made(u) => Operand { data: &u[xi * m * c..(xi + 1) * m * c], rs: c, cs: 1, pack: None },
        }
    }
}

/// One image's convolution: `image` [c, h, w] with the transformed filters of [m, c, 3, 3]
/// into `out` [m, oh, ow]. No bias, no activation.
pub(crate) fn conv(filters: &[Operand; POSITIONS], image: &[f32], g: &Geometry, c: usize, m: usize, out: &mut [f32]) {
    let (ty, tx) = tiles(g);
    let t = ty * tx;
    let patches = transform_input(image, g, c);
    let mut products = vec![0f32; POSITIONS * m * t];
    products_by_position(m, c, t, &|xi| (filters[xi], Operand { data: &patches[xi * c * t..(xi + 1) * c * t], rs: t, cs: 1, pack: None }), &mut products);
    transform_output(&products, g, m, out);
}

/// The 16 products of transform space, position xi's (rows x cols) = A B for (A, B) =
/// `operands(xi)`, into `products` ([16][rows][cols]). They are shared among the threads when
/// there is enough work to wake them (a product inside a task runs on that task's thread: the
/// pool is busy).
fn products_by_position<'a>(rows: usize, k: usize, cols: usize, operands: &(dyn Fn(usize) -> (Operand<'a>, Operand<'a>) + Sync), products: &mut [f32]) {
    assert!(products.len() >= POSITIONS * rows * cols);
    let out_ptr = threads::Shared::new(products.as_mut_ptr());
    let parts = if POSITIONS * rows * k * cols >= PARALLEL_MIN_MACS { threads::split(POSITIONS, 1, 1, 1) } else { vec![0..POSITIONS] };
    threads::run_tasks(parts.len(), &|task| {
        for xi in parts[task].clone() {
            let (a, b) = operands(xi);
            // SAFETY: position xi's rows x cols block of `products` (asserted inside) is this
            // task's alone.
            let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(xi * rows * cols), rows * cols) };
            gemm_with_packs(rows, k, cols, a, b, dst);
        }
    });
}

/// The operands of `conv`: each position's filter matrix.
pub(crate) fn operands(filters: &Filters, c: usize, m: usize) -> [Operand<'_>; POSITIONS] {
    std::array::from_fn(|xi| filters.at(xi, c, m))
}

/// The 16 transform-space matrices of the filters, [16][m][c]: U = G g G^T per (m, c), with
/// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
fn transform_filters(filters: &[f32], c: usize, m: usize) -> Vec<f32> {
    let mut u = vec![0f32; POSITIONS * m * c];
    let g_rows = |a: f32, b: f32, d: f32| [a, 0.5 * (a + b + d), 0.5 * (a - b + d), d];
    for (mc, g) in filters.chunks_exact(9).enumerate().take(m * c) {
        // G g: rows combined, for each of the 3 columns.
        let cols: [[f32; 4]; 3] = std::array::from_fn(|j| g_rows(g[j], g[3 + j], g[6 + j]));
        for i in 0..4 {
            // (G g) G^T: columns combined, for each of the 4 rows.
            let row = g_rows(cols[0][i], cols[1][i], cols[2][i]);
            for (j, v) in row.into_iter().enumerate() {
                u[(4 * i + j) * m * c + mc] = v;
            }
        }
    }
    u
}

/// The transformed filters packed per position as the browser's GEMM reads A (its panels), one
/// after the other: the kept form.
fn pack_filters(filters: &[f32], c: usize, m: usize) -> (Vec<f32>, usize) {
    pack_positions(&transform_filters(filters, c, m), |u| super::packed_weights::pack_a(m, c, u, c, 1))
}

/// Each position's matrix of `u` ([16][..]) packed by `pack`, the packs one after the other (all
/// of one size), and their rounded-up rows or columns.
fn pack_positions(u: &[f32], pack: impl Fn(&[f32]) -> (Vec<f32>, usize)) -> (Vec<f32>, usize) {
    let mut all = Vec::new();
    let mut padded = 0;
    for position in u.chunks_exact(u.len() / POSITIONS) {
        let (data, p) = pack(position);
        all.extend_from_slice(&data);
        padded = p;
    }
    (all, padded)
}

/// The 16 transform-space matrices of the input patches, [16][c][tiles]: V = B^T d B per 4x4
/// patch d (rows 2 ty - pad_top .., columns 2 tx - pad_left .., zeros outside the image), with
/// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]. Channels split across the
/// CPU threads.
fn transform_input(image: &[f32], g: &Geometry, c: usize) -> Vec<f32> {
    let (ty, tx) = tiles(g);
    let t = ty * tx;
    let mut v = vec![0f32; POSITIONS * c * t];
    let v_ptr = threads::Shared::new(v.as_mut_ptr());
    let (pw, ph) = (2 * tx + 2, 2 * ty + 2);
    let parts = if c * g.h * g.w >= PARALLEL_MIN_ELEMENTS { threads::split(c, 1, 1, 4) } else { vec![0..c] };
    threads::run_tasks(parts.len(), &|task| {
        // The channel's plane with its zero border, every patch inside it.
        let mut plane = vec![0f32; ph * pw];
        let mut rows = [vec![0f32; pw], vec![0f32; pw], vec![0f32; pw], vec![0f32; pw]];
        for ch in parts[task].clone() {
            plane.fill(0.0);
            let src = &image[ch * g.h * g.w..(ch + 1) * g.h * g.w];
            for y in 0..g.h {
                let py = y + g.pad_top;
                if py < ph {
                    let len = g.w.min(pw.saturating_sub(g.pad_left));
                    plane[py * pw + g.pad_left..py * pw + g.pad_left + len].copy_from_slice(&src[y * g.w..y * g.w + len]);
                }
            }
            for r in 0..ty {
                // B^T d: the patch rows combined, along the whole row of tiles.
                let d = |i: usize| &plane[(2 * r + i) * pw..(2 * r + i + 1) * pw];
                let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
                for x in 0..pw {
                    rows[0][x] = d0[x] - d2[x];
                    rows[1][x] = d1[x] + d2[x];
                    rows[2][x] = d2[x] - d1[x];
                    rows[3][x] = d1[x] - d3[x];
                }
                // (B^T d) B: columns combined, per tile.
                for (i, row) in rows.iter().enumerate() {
                    // SAFETY: position (i, j)'s channel `ch` row of tiles is this task's alone
                    // (tasks own disjoint channels).
                    let dst = |j: usize| unsafe { std::slice::from_raw_parts_mut(v_ptr.get().add(((4 * i + j) * c + ch) * t + r * tx), tx) };
                    let (v0, v1, v2, v3) = (dst(0), dst(1), dst(2), dst(3));
                    for q in 0..tx {
                        let s = &row[2 * q..2 * q + 4];
                        v0[q] = s[0] - s[2];
                        v1[q] = s[1] + s[2];
                        v2[q] = s[2] - s[1];
                        v3[q] = s[1] - s[3];
                    }
                }
            }
        }
    });
    v
}

/// Back from transform space: Y = A^T M A per tile (A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]), the
/// 2x2 block written where it lies inside [m, oh, ow]. Output channels split across the threads.
fn transform_output(products: &[f32], g: &Geometry, m: usize, out: &mut [f32]) {
    let (ty, tx) = tiles(g);
    let t = ty * tx;
    let plane = g.oh * g.ow;
    let out_ptr = threads::Shared::new(out.as_mut_ptr());
    let parts = if m * plane >= PARALLEL_MIN_ELEMENTS { threads::split(m, 1, 1, 4) } else { vec![0..m] };
    threads::run_tasks(parts.len(), &|task| {
        let mut sums = vec![[0f32; 4]; 2 * tx];
        for o in parts[task].clone() {
            // SAFETY: output channel o's plane is this task's alone.
            let y = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(o * plane), plane) };
            for r in 0..ty {
                let at = |xi: usize| &products[(xi * m + o) * t + r * tx..(xi * m + o) * t + (r + 1) * tx];
                // A^T M: the rows of each tile's M combined, for each of its 4 columns.
                for j in 0..4 {
                    let (m0, m1, m2, m3) = (at(j), at(4 + j), at(8 + j), at(12 + j));
                    for q in 0..tx {
                        sums[2 * q][j] = m0[q] + m1[q] + m2[q];
                        sums[2 * q + 1][j] = m1[q] - m2[q] - m3[q];
                    }
                }
                // (A^T M) A: columns combined; rows 2r, 2r + 1 of the output where inside.
                for (half, oy) in [2 * r, 2 * r + 1].into_iter().enumerate() {
                    if oy >= g.oh {
                        break;
                    }
                    let row = &mut y[oy * g.ow..(oy + 1) * g.ow];
                    for q in 0..tx {
                        let s = sums[2 * q + half];
                        row[2 * q] = s[0] + s[1] + s[2];
                        if 2 * q + 1 < g.ow {
                            row[2 * q + 1] = s[1] - s[2] - s[3];
                        }
                    }
                }
            }
        }
    });
}

/// The TF.js API's layout, NHWC: `x` [n, h, w, c] with `filter` [3, 3, c, m] into [n, oh, ow, m]
/// (a new tensor; no autograd here: src/ops/conv.rs records the gradient). Per image the
/// patches are [16][tiles][c] and each product [tiles x c] by [c x m] gives [tiles x m], so both
/// transforms run along contiguous channels.
pub(crate) fn conv_nhwc(x: &Tensor, filter: &Tensor, g: &Geometry) -> crate::Result<Tensor> {
    const OP: &str = "conv2d";
    let (c, m) = (g.c, filter.shape()[3]);
    let (ty, tx) = tiles(g);
    let t = ty * tx;
    let (xw, fw) = (x.cpu_words()?, filter.cpu_words()?);
    let (xf, ff): (&[f32], &[f32]) = (bytemuck::cast_slice(&xw), bytemuck::cast_slice(&fw));
    let shape = vec![g.n, g.oh, g.ow, m];
    let mut words = crate::tensor::alloc_words(OP, crate::shape::checked_numel(OP, &shape)?)?;
    let out: &mut [f32] = bytemuck::cast_slice_mut(&mut words);
    let layout = Layout { side: Side::WinogradNhwc, offset: 0, rows: m, k: c, rs: 0, cs: 0 };
    let kept = packed_weight_with(filter, layout, || pack_filters_nhwc(ff, c, m));
    let made = if kept.is_none() { transform_filters_nhwc(ff, c, m) } else { Vec::new() };
    let filters: [Operand; POSITIONS] = std::array::from_fn(|xi| match &kept {
        Some(p) => Operand { data: &[], rs: m, cs: 1, pack: Some(PackedView { data: &p.data[xi * p.padded * c..(xi + 1) * p.padded * c], padded: p.padded }) },
        None => Operand { data: &made[xi * c * m..(xi + 1) * c * m], rs: m, cs: 1, pack: None },
    });
    let mut products = vec![0f32; POSITIONS * t * m];
    for (image, y) in xf.chunks_exact(g.h * g.w * c).zip(out.chunks_exact_mut(g.oh * g.ow * m)) {
        let patches = transform_input_nhwc(image, g);
        products_by_position(t, c, m, &|xi| (Operand { data: &patches[xi * t * c..(xi + 1) * t * c], rs: c, cs: 1, pack: None }, filters[xi]), &mut products);
        transform_output_nhwc(&products, g, m, y);
    }
    Ok(Tensor::from_storage(x.device(), Rc::new(crate::tensor::Storage::cpu(words)), shape, crate::DType::F32))
}

/// The filters [3, 3, c, m] in transform space, [16][c][m] (U = G g G^T per (c, m), as
/// `transform_filters`), each position's matrix the products' B.
fn transform_filters_nhwc(filters: &[f32], c: usize, m: usize) -> Vec<f32> {
    let cm = c * m;
    let mut u = vec![0f32; POSITIONS * cm];
    let tap = |ky: usize, kx: usize| &filters[(ky * 3 + kx) * cm..(ky * 3 + kx + 1) * cm];
    // G g for each of the 3 filter columns: 4 rows of c x m.
    let mut gg = vec![0f32; 4 * 3 * cm];
    for kx in 0..3 {
        let (g0, g1, g2) = (tap(0, kx), tap(1, kx), tap(2, kx));
        for e in 0..cm {
            gg[kx * cm + e] = g0[e];
            gg[(3 + kx) * cm + e] = 0.5 * (g0[e] + g1[e] + g2[e]);
            gg[(6 + kx) * cm + e] = 0.5 * (g0[e] - g1[e] + g2[e]);
            gg[(9 + kx) * cm + e] = g2[e];
        }
    }
    // (G g) G^T: the columns combined, for each of the 4 rows.
    for i in 0..4 {
        let row = |kx: usize| &gg[(3 * i + kx) * cm..(3 * i + kx + 1) * cm];
        let (r0, r1, r2) = (row(0), row(1), row(2));
        for e in 0..cm {
            u[(4 * i) * cm + e] = r0[e];
            u[(4 * i + 1) * cm + e] = 0.5 * (r0[e] + r1[e] + r2[e]);
            u[(4 * i + 2) * cm + e] = 0.5 * (r0[e] - r1[e] + r2[e]);
            u[(4 * i + 3) * cm + e] = r2[e];
        }
    }
    u
}

/// `transform_filters_nhwc` packed per position as the browser's GEMM reads B: the kept form.
fn pack_filters_nhwc(filters: &[f32], c: usize, m: usize) -> (Vec<f32>, usize) {
    pack_positions(&transform_filters_nhwc(filters, c, m), |u| super::packed_weights::pack_b(c, m, u, m, 1))
}

/// One image [h, w, c]'s patches in transform space, [16][tiles][c] (V = B^T d B per patch, as
/// `transform_input`). Rows of tiles split across the CPU threads.
fn transform_input_nhwc(image: &[f32], g: &Geometry) -> Vec<f32> {
    let c = g.c;
    let (ty, tx) = tiles(g);
    let t = ty * tx;
    let pw = 2 * tx + 2;
    let mut v = vec![0f32; POSITIONS * t * c];
    let v_ptr = threads::Shared::new(v.as_mut_ptr());
    let parts = if g.h * g.w * c >= PARALLEL_MIN_ELEMENTS { threads::split(ty, 1, 1, 4) } else { vec![0..ty] };
    threads::run_tasks(parts.len(), &|task| {
        // Four padded input rows (pw pixels of c), then B^T d over them.
        let mut rows = vec![0f32; 4 * pw * c];
        let mut comb = vec![0f32; 4 * pw * c];
        for r in parts[task].clone() {
            rows.fill(0.0);
            for i in 0..4 {
                let Some(iy) = (2 * r + i).checked_sub(g.pad_top).filter(|&iy| iy < g.h) else { continue };
                // Input columns land at pixel pad_left.. of the padded row (pw >= w + pad_left).
                let dst = &mut rows[(i * pw + g.pad_left) * c..(i * pw + g.pad_left + g.w) * c];
                dst.copy_from_slice(&image[iy * g.w * c..(iy + 1) * g.w * c]);
            }
            let row = |i: usize| &rows[i * pw * c..(i + 1) * pw * c];
            let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3));
            let (c0, rest) = comb.split_at_mut(pw * c);
            let (c1, rest) = rest.split_at_mut(pw * c);
            let (c2, c3) = rest.split_at_mut(pw * c);
            for e in 0..pw * c {
                c0[e] = d0[e] - d2[e];
                c1[e] = d1[e] + d2[e];
                c2[e] = d2[e] - d1[e];
                c3[e] = d1[e] - d3[e];
            }
            for (i, ci) in [&*c0, &*c1, &*c2, &*c3].into_iter().enumerate() {
                for q in 0..tx {
                    let px = |j: usize| &ci[(2 * q + j) * c..(2 * q + j + 1) * c];
                    let (s0, s1, s2, s3) = (px(0), px(1), px(2), px(3));
                    // SAFETY: tile (r, q)'s channels at each position are this task's alone
                    // (tasks own disjoint rows of tiles).
                    let dst = |j: usize| unsafe { std::slice::from_raw_parts_mut(v_ptr.get().add(((4 * i + j) * t + r * tx + q) * c), c) };
                    let (v0, v1, v2, v3) = (dst(0), dst(1), dst(2), dst(3));
                    for e in 0..c {
                        v0[e] = s0[e] - s2[e];
                        v1[e] = s1[e] + s2[e];
                        v2[e] = s2[e] - s1[e];
                        v3[e] = s1[e] - s3[e];
                    }
                }
            }
        }
    });
    v
}

/// Back from transform space for one image: Y = A^T M A per tile (as `transform_output`), from
/// products [16][tiles][m] into [oh, ow, m]. Rows of tiles split across the CPU threads.
fn transform_output_nhwc(products: &[f32], g: &Geometry, m: usize, y: &mut [f32]) {
    let (ty, tx) = tiles(g);
    let t = ty * tx;
    let y_ptr = threads::Shared::new(y.as_mut_ptr());
    let parts = if g.oh * g.ow * m >= PARALLEL_MIN_ELEMENTS { threads::split(ty, 1, 1, 4) } else { vec![0..ty] };
    threads::run_tasks(parts.len(), &|task| {
        let mut s = vec![0f32; 8 * m];
        for r in parts[task].clone() {
            for q in 0..tx {
                let at = |xi: usize| &products[(xi * t + r * tx + q) * m..(xi * t + r * tx + q + 1) * m];
                // A^T M: the tile's rows combined, for each of its 4 columns.
                for j in 0..4 {
                    let (m0, m1, m2, m3) = (at(j), at(4 + j), at(8 + j), at(12 + j));
                    let (lo, hi) = s.split_at_mut(4 * m);
                    let (top, bottom) = (&mut lo[j * m..(j + 1) * m], &mut hi[j * m..(j + 1) * m]);
                    for e in 0..m {
                        top[e] = m0[e] + m1[e] + m2[e];
                        bottom[e] = m1[e] - m2[e] - m3[e];
                    }
                }
                // (A^T M) A: columns combined; the 2x2 pixels where inside the output.
                for half in 0..2 {
                    let oy = 2 * r + half;
                    if oy >= g.oh {
                        break;
                    }
                    let col = |j: usize| &s[(4 * half + j) * m..(4 * half + j + 1) * m];
                    let (a0, a1, a2, a3) = (col(0), col(1), col(2), col(3));
                    for dx in 0..2 {
                        let ox = 2 * q + dx;
                        if ox >= g.ow {
                            break;
                        }
                        // SAFETY: pixel (oy, ox) belongs to tile row r, this task's alone.
                        let px = unsafe { std::slice::from_raw_parts_mut(y_ptr.get().add((oy * g.ow + ox) * m), m) };
                        for e in 0..m {
                            px[e] = if dx == 0 { a0[e] + a1[e] + a2[e] } else { a1[e] - a2[e] - a3[e] };
                        }
                    }
                }
            }
        }
    });
}

/// Transforms of at least this many elements split across the CPU threads.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// The products of at least this many multiply-adds in all split across the CPU threads (as the
/// GEMM's own threshold, src/ops/matmul.rs).
const PARALLEL_MIN_MACS: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::im2col::{im2col, Padding};
    use crate::{ops, Device};

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 37 + seed * 101) % 53) as f32 - 26.0) / 17.0).collect()
    }

    /// The im2col path conv2d takes where Winograd does not apply.
    fn im2col_conv(x: &Tensor, f: &Tensor, g: &Geometry) -> Tensor {
        let fs = f.shape();
        let w = f.reshape_to(&[9 * fs[2], fs[3]]).unwrap();
        ops::matmul(&im2col(x, g, 0.0).unwrap(), &w, false, false).unwrap().reshape_to(&[g.n, g.oh, g.ow, fs[3]]).unwrap()
    }

    /// NHWC (the TF.js API's conv2d) against im2col and one GEMM: a batch, odd and even output
    /// sizes, a single tile, asymmetric and oversized padding, and sizes that split the
    /// transforms and products across the threads; and conv2d's gradients through it against
    /// the composition's.
    #[test]
    fn nhwc_matches_im2col_and_its_gradients() {
        #[cfg(not(target_arch = "wasm32"))]
        crate::threads::start_native_workers(2);
        // (n, h, w, c, m, padding)
        let cases = [
            (2, 7, 9, 8, 8, Padding::Same),
            (1, 6, 5, 9, 10, Padding::Valid),
            (1, 2, 2, 12, 8, Padding::Explicit(1, 1, 1, 1)),
            (1, 5, 8, 8, 16, Padding::Explicit(2, 0, 1, 2)),
            (1, 64, 65, 16, 17, Padding::Same),
        ];
        for (i, &(n, h, w, c, m, padding)) in cases.iter().enumerate() {
            let x = Tensor::from_f32(&Device::Cpu, &values(n * h * w * c, i), &[n, h, w, c]).unwrap();
            let f = Tensor::from_f32(&Device::Cpu, &values(9 * c * m, i + 5), &[3, 3, c, m]).unwrap();
            let g = Geometry::new("conv2d", x.shape(), (3, 3), (1, 1), (1, 1), padding).unwrap();
            assert!(applies(&g, c, m), "case {i}");
            let (got, want) = (conv_nhwc(&x, &f, &g).unwrap(), im2col_conv(&x, &f, &g));
            assert_eq!(got.shape(), want.shape(), "case {i}");
            for (j, (a, b)) in got.cpu_floats().iter().zip(&want.cpu_floats()).enumerate() {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "case {i} [{j}]: {a} vs {b}");
            }
        }
        let (x, f) = (Tensor::from_f32(&Device::Cpu, &values(2 * 6 * 7 * 8, 1), &[2, 6, 7, 8]).unwrap(), Tensor::from_f32(&Device::Cpu, &values(9 * 8 * 9, 2), &[3, 3, 8, 9]).unwrap());
        let g = Geometry::new("conv2d", x.shape(), (3, 3), (1, 1), (1, 1), Padding::Same).unwrap();
        let grads = |winograd: bool| {
            let (_, grads) = crate::autograd::value_and_grads(&[&x, &f], |t| {
                let y = if winograd { ops::conv2d(&t[0], &t[1], (1, 1), Padding::Same, (1, 1))? } else { im2col_conv(&t[0], &t[1], &g) };
                ops::sum(&ops::mul(&y, &y)?, None, false)
            })
            .unwrap();
            grads.iter().map(Tensor::cpu_floats).collect::<Vec<_>>()
        };
        for (which, (got, want)) in grads(true).iter().zip(&grads(false)).enumerate() {
            for (j, (a, b)) in got.iter().zip(want).enumerate() {
                assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "gradient {which} [{j}]: {a} vs {b}");
            }
        }
    }
}
