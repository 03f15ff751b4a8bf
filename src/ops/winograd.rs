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
        let layout = Layout { side: Side::Winograd3x3, offset: 0, rows: m, k: c, rs: 0, cs: 0 };
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
    let out_ptr = threads::Shared::new(products.as_mut_ptr());
    // The 16 products, a few per task (each one splits no further while the pool is busy).
    let parts = threads::split(POSITIONS, 1, 1, 1);
    threads::run_tasks(parts.len(), &|task| {
        for xi in parts[task].clone() {
            let b = Operand { data: &patches[xi * c * t..(xi + 1) * c * t], rs: t, cs: 1, pack: None };
            // SAFETY: position xi's m x t block of `products` is this task's alone.
            let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(xi * m * t), m * t) };
            gemm_with_packs(m, c, t, filters[xi], b, dst);
        }
    });
    transform_output(&products, g, m, out);
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
    let u = transform_filters(filters, c, m);
    let mut all = Vec::new();
    let mut padded = 0;
    for xi in 0..POSITIONS {
        let (pack, p) = super::packed_weights::pack_a(m, c, &u[xi * m * c..(xi + 1) * m * c], c, 1);
        all.extend_from_slice(&pack);
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

/// Transforms of at least this many elements split across the CPU threads.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;
