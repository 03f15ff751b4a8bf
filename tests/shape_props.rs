//! Property tests (proptest) of shape inference and broadcasting: random shapes, including
//! empty, zero-size and mismatched ones, against a brute-force statement of numpy's rules; the
//! CPU elementwise engine against direct index arithmetic; and no panic on any input.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use webtensor::shape::{broadcast_shapes, broadcast_strides, infer_reshape, normalize_axes, strides};
use webtensor::{ops, Device, Tensor};

fn dims() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![Just(1usize), 0usize..5], 0..5)
}

/// numpy: align at the right; each pair of sizes must be equal or contain a 1.
fn numpy_broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let at = |s: &[usize], i: usize| if i < r - s.len() { 1 } else { s[i - (r - s.len())] };
    (0..r)
        .map(|i| {
            let (x, y) = (at(a, i), at(b, i));
            if x == y || y == 1 { Some(x) } else if x == 1 { Some(y) } else { None }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn broadcasting_matches_numpy_and_is_symmetric(a in dims(), b in dims()) {
        let ours = broadcast_shapes("t", &a, &b).ok();
        prop_assert_eq!(&ours, &numpy_broadcast(&a, &b));
        prop_assert_eq!(ours, broadcast_shapes("t", &b, &a).ok());
    }

    #[test]
    fn broadcast_strides_address_the_right_element(a in dims(), b in dims()) {
        if let Ok(out) = broadcast_shapes("t", &a, &b) {
            let sa = broadcast_strides(&a, &out);
            let own = strides(&a);
            let lead = out.len() - a.len();
            let n: usize = out.iter().product();
            for i in 0..n.min(64) {
                // coordinates of output element i, and the input element numpy reads for it
                let mut rem = i;
                let mut via_strides = 0;
                let mut direct = 0;
                for d in (0..out.len()).rev() {
                    let c = rem % out[d];
                    rem /= out[d];
                    via_strides += c * sa[d];
                    if d >= lead && a[d - lead] != 1 {
                        direct += c * own[d - lead];
                    }
                }
                prop_assert_eq!(via_strides, direct);
            }
        }
    }

    #[test]
    fn reshape_inference_is_exact(from in dims(), to in prop::collection::vec(-1i64..6, 0..5)) {
        match infer_reshape("t", &from, &to) {
            Ok(shape) => {
                prop_assert_eq!(shape.iter().product::<usize>(), from.iter().product::<usize>());
                prop_assert!(to.iter().filter(|&&d| d == -1).count() <= 1);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("t: ")),
        }
    }

    #[test]
    fn axes_are_validated(rank in 0usize..6, axes in prop::collection::vec(-8i64..8, 0..4)) {
        match normalize_axes("t", Some(&axes), rank) {
            Ok(v) => {
                prop_assert!(v.iter().all(|&a| a < rank));
                prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
            }
            Err(e) => prop_assert!(e.message.contains("axis") || e.message.contains("axes")),
        }
    }

    /// The CPU elementwise engine (its odometer walk over broadcast strides) against values
    /// computed from the coordinates directly; mismatched shapes must be an error, never a panic.
    #[test]
    fn cpu_broadcast_add_matches_direct_indexing(a in dims(), b in dims()) {
        let na: usize = a.iter().product();
        let nb: usize = b.iter().product();
        let va: Vec<f32> = (0..na).map(|i| i as f32).collect();
        let vb: Vec<f32> = (0..nb).map(|i| (i * 1000) as f32).collect();
        let ta = Tensor::from_f32(&Device::Cpu, &va, &a).unwrap();
        let tb = Tensor::from_f32(&Device::Cpu, &vb, &b).unwrap();
        match (ops::add(&ta, &tb), numpy_broadcast(&a, &b)) {
            (Ok(sum), Some(out)) => {
                prop_assert_eq!(sum.shape(), &out[..]);
                let got = sum.to_words_sync().unwrap();
                let (sa, sb) = (broadcast_strides(&a, &out), broadcast_strides(&b, &out));
                for (i, w) in got.iter().enumerate() {
                    let mut rem = i;
                    let (mut ia, mut ib) = (0, 0);
                    for d in (0..out.len()).rev() {
                        let c = rem % out[d];
                        rem /= out[d];
                        ia += c * sa[d];
                        ib += c * sb[d];
                    }
                    prop_assert_eq!(f32::from_bits(*w), va[ia] + vb[ib]);
                }
            }
            (Err(e), None) => prop_assert!(e.to_string().starts_with("add: shapes")),
            (Err(e), Some(_)) => {
                // zero-size inputs that broadcast against non-empty outputs are refused
                prop_assert!(na == 0 || nb == 0, "unexpected error {}", e);
            }
            (Ok(s), None) => prop_assert!(false, "add accepted {:?} + {:?} -> {:?}", a, b, s.shape()),
        }
    }
}
