//! Weights packed once per update. The CPU GEMM in the browser (src/ops/sgemm_wasm.rs) copies
//! each operand into panels as it goes: a pass over a whole weight per call, which for a conv
//! net's late layers (a 512 x 4608 filter against 49 pixels) costs about as much as the product.
//! A weight that products read again and again (a loaded model's initializers, a variable) keeps
//! one packed copy beside its storage instead, dropped when the weight is written.
//!
//! Policy: only storages marked as weights (`Tensor::mark_weight`) keep packs, and a pack is made
//! on the second product that reads the weight in the same layout with no write in between. So a
//! weight updated every step (training: one forward product and one backward product per update,
//! in two layouts) is never packed whole (packing block by block, as the GEMM does, keeps the
//! panels in cache), while inference packs each weight once, on its second call.
//!
//! Natively matrixmultiply packs its own panels and reads no packs: nothing is kept there.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::Tensor;

/// What a pack is: one operand of C = A B (the two pack into different panels), or a 3x3
/// convolution's filters in Winograd's transform space (src/ops/winograd.rs): 16 packed A for
/// NCHW [m, c, 3, 3] filters, 16 packed B for NHWC [3, 3, c, m] ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    A,
    B,
    WinogradNchw,
    WinogradNhwc,
}

/// The layout a product reads a weight in: from word `offset`, `rows` rows of A (or columns of
/// B) by `k`, through the strides `rs` (between rows of A / along k of B) and `cs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub side: Side,
    pub offset: usize,
    pub rows: usize,
    pub k: usize,
    pub rs: usize,
    pub cs: usize,
}

/// A whole packed operand: `data` in the GEMM's panel order, its rows (or columns) rounded up to
/// `padded`.
pub(crate) struct Pack {
    pub data: Vec<f32>,
    pub padded: usize,
}

impl Drop for Pack {
    fn drop(&mut self) {
        PACKED_BYTES.with(|b| b.set(b.get() - self.data.len() * 4));
    }
}

thread_local! {
    /// Bytes held by packs now (the memory they add to their weights).
    static PACKED_BYTES: Cell<usize> = const { Cell::new(0) };
    /// Whether new packs are made (`set_enabled`).
    static ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Turns the making of new packs on or off (on by default). Off, a loaded model holds no more
/// than its weights (a pack doubles an f32 weight's bytes), at the cost of a pass over each
/// weight per product; packs made before stay until their weights are written or dropped.
pub fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}

/// Bytes held by packed copies of weights now.
pub fn packed_bytes() -> usize {
    PACKED_BYTES.with(|b| b.get())
}

/// Layouts one weight is packed in at most (a weight read in more layouts than this by one
/// model is unusual; past it, products pack as they go).
const MAX_LAYOUTS: usize = 4;

struct Entry {
    layout: Layout,
    /// None after the first product in this layout since the last write.
    pack: Option<Rc<Pack>>,
}

/// One storage's packs (a field of `Storage`).
#[derive(Default)]
pub(crate) struct PackCache {
    weight: Cell<bool>,
    entries: RefCell<Vec<Entry>>,
}

impl PackCache {
    pub fn mark_weight(&self) {
        self.weight.set(true);
    }

    /// The storage's values are about to change: every pack and every first use is forgotten.
    pub fn written(&self) {
        self.entries.borrow_mut().clear();
    }

    /// The pack of this layout: kept, or built now by `build` (data, padded) when this is the
    /// second product in the layout since the last write; None (pack as you go) otherwise.
    pub fn get(&self, layout: Layout, build: impl FnOnce() -> (Vec<f32>, usize)) -> Option<Rc<Pack>> {
        if !self.weight.get() || !cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
            return None;
        }
        let mut entries = self.entries.borrow_mut();
        match entries.iter_mut().find(|e| e.layout == layout) {
            Some(Entry { pack: Some(p), .. }) => Some(p.clone()),
            Some(_) if !ENABLED.with(|e| e.get()) => None,
            Some(entry) => {
                let (data, padded) = build();
                PACKED_BYTES.with(|b| b.set(b.get() + data.len() * 4));
                let pack = Rc::new(Pack { data, padded });
                entry.pack = Some(pack.clone());
                Some(pack)
            }
            None => {
                if entries.len() < MAX_LAYOUTS {
                    entries.push(Entry { layout, pack: None });
                }
                None
            }
        }
    }
}

/// The pack of `weight` (whose values are `values`) in `layout` (A or B), kept or built now as
/// the policy above says; None where the product should pack as it goes.
pub(crate) fn packed_weight(weight: &Tensor, values: &[f32], layout: Layout) -> Option<Rc<Pack>> {
    let Layout { side, offset, rows, k, rs, cs } = layout;
    if rows == 0 || k == 0 {
        return None;
    }
    let at = &values[offset..];
    packed_weight_with(weight, layout, || match side {
        Side::A => pack_a(rows, k, at, rs, cs),
        Side::B => pack_b(k, rows, at, rs, cs),
        Side::WinogradNchw | Side::WinogradNhwc => unreachable!("Winograd's filters are packed by src/ops/winograd.rs"),
    })
}

/// As `packed_weight`, with the pack made by `build` (data, padded) when it is due.
pub(crate) fn packed_weight_with(weight: &Tensor, layout: Layout, build: impl FnOnce() -> (Vec<f32>, usize)) -> Option<Rc<Pack>> {
    weight.storage().packs.get(layout, build)
}

/// The whole of A (m x k, read through strides from `a`) in the browser GEMM's panels, and its
/// rows rounded up (src/ops/sgemm_wasm.rs `pack_whole_a`). Only called where packs are made.
pub(crate) fn pack_a(m: usize, k: usize, a: &[f32], rs: usize, cs: usize) -> (Vec<f32>, usize) {
    assert!(m > 0 && k > 0 && (m - 1) * rs + (k - 1) * cs < a.len(), "a pack's layout reaches past its matrix");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: every element read is inside `a` (asserted above).
    return unsafe { super::sgemm_wasm::pack_whole_a(m, k, a.as_ptr(), rs as isize, cs as isize) };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    unreachable!("packs are made only for the browser's GEMM")
}

/// The whole of B (k x n, read through strides from `b`) in the browser GEMM's panels, and its
/// columns rounded up (`pack_whole_b`). Only called where packs are made.
pub(crate) fn pack_b(k: usize, n: usize, b: &[f32], rs: usize, cs: usize) -> (Vec<f32>, usize) {
    assert!(n > 0 && k > 0 && (k - 1) * rs + (n - 1) * cs < b.len(), "a pack's layout reaches past its matrix");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: every element read is inside `b` (asserted above).
    return unsafe { super::sgemm_wasm::pack_whole_b(k, n, b.as_ptr(), rs as isize, cs as isize) };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    unreachable!("packs are made only for the browser's GEMM")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(offset: usize) -> Layout {
        Layout { side: Side::A, offset, rows: 8, k: 3, rs: 3, cs: 1 }
    }

    /// Packs come on the second use of a layout, are shared after, are forgotten on a write, and
    /// only weights keep them (natively none is ever made: matrixmultiply reads no packs).
    #[test]
    fn a_weight_is_packed_on_its_second_product_until_it_is_written() {
        let packs = PackCache::default();
        let build = || (vec![1.0; 24], 8);
        assert!(packs.get(layout(0), build).is_none() && packs.get(layout(0), build).is_none(), "not a weight: never packed");
        packs.mark_weight();
        let wasm = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
        let before = packed_bytes();
        assert!(packs.get(layout(0), build).is_none(), "first product packs as it goes");
        let second = packs.get(layout(0), build);
        assert_eq!(second.is_some(), wasm);
        if wasm {
            assert_eq!(packed_bytes(), before + 96);
            let third = packs.get(layout(0), || unreachable!("kept")).unwrap();
            assert!(Rc::ptr_eq(second.as_ref().unwrap(), &third));
            assert!(packs.get(layout(3), build).is_none(), "another layout has its own first use");
        }
        drop(second);
        packs.written();
        assert_eq!(packed_bytes(), before, "a write drops the packs");
        assert!(packs.get(layout(0), build).is_none(), "after a write the next product is a first use again");
    }
}
