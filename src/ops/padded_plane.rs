//! A padded, phase-split copy of one image plane: what lets the NCHW convolution and pools
//! (conv_nchw.rs, pool_nchw.rs) read each window tap of a whole output row as one contiguous run.
use super::im2col::Geometry;

/// An input plane padded to every row and column the window reaches, each row split into
/// `sw` column phases (phase q holds padded columns q, q + sw, q + 2 sw, ...): every tap of a
/// strided window then reads a contiguous run, which the compiler vectorizes.
pub(crate) struct PaddedPlane {
    values: Vec<f32>,
    phase_len: usize,
}

impl PaddedPlane {
    pub fn new(g: &Geometry) -> PaddedPlane {
        let rows = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
        let phase_len = (g.kw - 1) * g.dw / g.sw + g.ow;
        PaddedPlane { values: vec![0.0; rows * g.sw * phase_len], phase_len }
    }

    pub fn empty() -> PaddedPlane {
        PaddedPlane { values: Vec::new(), phase_len: 0 }
    }

    /// Copies `plane` (h x w) in, with `pad` outside it.
    pub fn fill(&mut self, plane: &[f32], g: &Geometry, pad: f32) {
        let row_len = g.sw * self.phase_len;
        for (r, row) in self.values.chunks_exact_mut(row_len).enumerate() {
            let Some(src) = r.checked_sub(g.pad_top).filter(|&iy| iy < g.h).map(|iy| &plane[iy * g.w..][..g.w]) else {
                row.fill(pad);
                continue;
            };
            for (q, phase) in row.chunks_exact_mut(self.phase_len).enumerate() {
                // Phase entry j is input column q + j * sw - pad_left: inside the image for j in [lo, hi).
                let lo = g.pad_left.saturating_sub(q).div_ceil(g.sw).min(phase.len());
                let hi = if g.w + g.pad_left > q { ((g.w + g.pad_left - q - 1) / g.sw + 1).min(phase.len()) } else { 0 }.max(lo);
                phase[..lo].fill(pad);
                phase[hi..].fill(pad);
                if hi > lo {
                    let first = q + lo * g.sw - g.pad_left;
                    if g.sw == 1 {
                        phase[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
                    } else {
                        phase[lo..hi].iter_mut().zip(src[first..].iter().step_by(g.sw)).for_each(|(v, &x)| *v = x);
                    }
                }
            }
        }
    }

    /// The `ow` values tap (ky, kx) reads for output row `oy`.
    pub fn tap(&self, g: &Geometry, oy: usize, ky: usize, kx: usize) -> &[f32] {
        let (r, col) = (oy * g.sh + ky * g.dh, kx * g.dw);
        &self.values[(r * g.sw + col % g.sw) * self.phase_len + col / g.sw..][..g.ow]
    }
}
