//! Shapes, strides and numpy-style broadcasting. All tensors are dense and row-major; views
//! (transpose, slice, broadcast) are materialised by the strided-copy kernel, which takes the
//! strides computed here.
use crate::{bail, Result};

/// The most dimensions a kernel handles (uniform arrays are sized for it).
pub const MAX_RANK: usize = 8;

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The most elements a tensor may have: its bytes must fit in 32 bits (WebGPU binding sizes and
/// wasm32's usize), so byte arithmetic on a checked size never overflows.
pub const MAX_ELEMENTS: usize = (u32::MAX / 4) as usize;

/// Like `numel` but refuses sizes that overflow (a hostile or mistaken shape must not wrap).
pub fn checked_numel(op: &str, shape: &[usize]) -> Result<usize> {
    // The nonzero dimensions must multiply to at most MAX_ELEMENTS even when another is 0: strides
    // and indexing multiply them, and must not overflow for an empty tensor either.
    let mut n: usize = 1;
    for &d in shape.iter().filter(|&&d| d != 0) {
        n = match n.checked_mul(d) {
            Some(v) if v <= MAX_ELEMENTS => v,
            _ if shape.contains(&0) => bail!(op, "shape {:?} is empty, but its other dimensions multiply to more than {} (the most supported, also for an empty tensor)", shape, MAX_ELEMENTS),
            _ => bail!(op, "shape {:?} has too many elements (at most {} allowed)", shape, MAX_ELEMENTS),
        };
    }
    Ok(if shape.contains(&0) { 0 } else { n })
}

pub fn check_rank(op: &str, shape: &[usize]) -> Result<()> {
    if shape.len() > MAX_RANK {
        bail!(op, "shape {:?} has rank {} but at most {} dimensions are supported", shape, shape.len(), MAX_RANK);
    }
    Ok(())
}

/// Row-major strides, in elements.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The broadcast shape of two shapes (numpy rules, aligned at the right).
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let db = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            bail!(op, "shapes {:?} and {:?} cannot be broadcast together", a, b);
        };
    }
    Ok(out)
}

/// Strides to read `shape` as if it had `out_shape` (0 along broadcast dimensions).
/// `shape` must broadcast to `out_shape`.
pub fn broadcast_strides(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let lead = out_shape.len() - shape.len();
    (0..out_shape.len())
        .map(|i| if i < lead || shape[i - lead] == 1 { 0 } else { own[i - lead] })
        .collect()
}

/// Resolves a possibly negative axis against `rank`.
pub fn normalize_axis(op: &str, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        bail!(op, "axis {} is out of range for a tensor of rank {}", axis, rank);
    }
    Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
}

/// Resolves a list of axes (negative allowed), sorted and deduplicated; `None` means all axes.
pub fn normalize_axes(op: &str, axes: Option<&[i64]>, rank: usize) -> Result<Vec<usize>> {
    let mut out = match axes {
        None => (0..rank).collect::<Vec<_>>(),
        Some(list) => {
            let mut v = Vec::with_capacity(list.len());
            for &a in list {
                if a < -(rank as i64) || a >= rank as i64 {
                    bail!(op, "axis {} is out of range for a tensor of rank {}", a, rank);
                }
                v.push(if a < 0 { (a + rank as i64) as usize } else { a as usize });
            }
            v
        }
    };
    out.sort_unstable();
    let before = out.len();
    out.dedup();
    if out.len() != before {
        bail!(op, "axes {:?} name the same axis twice", axes.unwrap_or(&[]));
    }
    Ok(out)
}

/// Resolves a reshape target that may contain one -1.
pub fn infer_reshape(op: &str, from: &[usize], to: &[i64]) -> Result<Vec<usize>> {
    let n = numel(from);
    let mut unknown = None;
    let mut known: usize = 1;
    for (i, &d) in to.iter().enumerate() {
        if d == -1 {
            if unknown.is_some() {
                bail!(op, "target shape {:?} has more than one -1", to);
            }
            unknown = Some(i);
        } else if d < 0 {
            bail!(op, "target shape {:?} has a negative dimension", to);
        } else {
            known = match known.checked_mul(d as usize) {
                Some(k) => k,
                None => bail!(op, "target shape {:?} is too large", to),
            };
        }
    }
    let mut out: Vec<usize> = to.iter().map(|&d| d.max(0) as usize).collect();
    match unknown {
        Some(i) => {
            if known == 0 || n % known != 0 {
                bail!(op, "cannot reshape a tensor of shape {:?} ({} elements) into {:?}", from, n, to);
            }
            out[i] = n / known;
        }
        None if known != n => {
            bail!(op, "cannot reshape a tensor of shape {:?} ({} elements) into {:?} ({} elements)", from, n, to, known)
        }
        None => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[2, 3], &[3]).unwrap(), vec![2, 3]);
        assert_eq!(broadcast_shapes("t", &[4, 1, 5], &[3, 1]).unwrap(), vec![4, 3, 5]);
        assert_eq!(broadcast_shapes("t", &[], &[2]).unwrap(), vec![2]);
        let e = broadcast_shapes("add", &[2, 3], &[4]).unwrap_err();
        assert_eq!(e.to_string(), "add: shapes [2, 3] and [4] cannot be broadcast together");
        assert_eq!(broadcast_strides(&[3, 1], &[4, 3, 5]), vec![0, 1, 0]);
    }

    #[test]
    fn axes_and_reshape() {
        assert_eq!(normalize_axis("t", -1, 3).unwrap(), 2);
        assert!(normalize_axis("t", 3, 3).is_err());
        assert!(normalize_axis("t", -4, 3).is_err());
        assert_eq!(normalize_axes("t", Some(&[-1, 0]), 3).unwrap(), vec![0, 2]);
        assert!(normalize_axes("t", Some(&[1, -2]), 3).is_err());
        assert_eq!(infer_reshape("t", &[2, 6], &[3, -1]).unwrap(), vec![3, 4]);
        assert!(infer_reshape("t", &[2, 6], &[5, -1]).is_err());
        assert!(infer_reshape("t", &[2, 6], &[-1, -1]).is_err());
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert!(checked_numel("t", &[1 << 20, 1 << 20]).is_err());
    }
}
