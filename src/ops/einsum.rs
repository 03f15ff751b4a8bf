//! Einsum (TF.js `tf.einsum`, ONNX `Einsum`) as the engine's transpose, sum and batched matmul: each pair of operands becomes
//! one [batch, m, k] x [batch, k, n] product (the contractions transformers write: "bhid,bhjd->bhij",
//! "bij,bjk->bik", "i,j->ij", ...). Ellipses are supported; a letter repeated within one operand
//! (a diagonal) is refused.
use crate::ops;
use crate::{bail, Result, Tensor};

const OP: &str = "einsum";

/// Letters for the dimensions an ellipsis stands for (never valid einsum letters).
const ELLIPSIS_LETTERS: &[char] = &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/// An operand's subscripts with its ellipsis expanded to `dims` placeholder letters.
fn expand(term: &str, rank: usize) -> Result<Vec<char>> {
    let letters: Vec<char> = term.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if !term.contains("...") {
        if letters.len() != rank {
            bail!(OP, "term '{term}' has {} letters for an operand of rank {rank}", letters.len());
        }
        return Ok(letters);
    }
    let (before, after) = term.split_once("...").unwrap();
    let n = rank.checked_sub(letters.len()).filter(|&n| n <= ELLIPSIS_LETTERS.len());
    let Some(n) = n else { bail!(OP, "term '{term}' does not fit an operand of rank {rank}") };
    let mut out: Vec<char> = before.chars().collect();
    out.extend(&ELLIPSIS_LETTERS[ELLIPSIS_LETTERS.len() - n..]);
    out.extend(after.chars());
    Ok(out)
}

fn dims_of(t: &Tensor, letters: &[char], c: char) -> usize {
    letters.iter().position(|&l| l == c).map_or(1, |i| t.shape()[i])
}

/// Sums away the letters of `t` that `keep` lacks.
fn sum_unused(t: Tensor, letters: Vec<char>, keep: &dyn Fn(char) -> bool) -> Result<(Tensor, Vec<char>)> {
    let axes: Vec<i64> = (0..letters.len()).filter(|&i| !keep(letters[i])).map(|i| i as i64).collect();
    if axes.is_empty() {
        return Ok((t, letters));
    }
    let kept = letters.into_iter().filter(|&c| keep(c)).collect();
    Ok((ops::sum(&t, Some(&axes), false)?, kept))
}

/// t's axes reordered to `order` (letters of t), broadcast to `sizes` where t has 1.
fn arrange(t: &Tensor, letters: &[char], order: &[char], sizes: &[usize]) -> Result<Tensor> {
    let perm: Vec<usize> = order.iter().map(|c| letters.iter().position(|l| l == c).unwrap()).collect();
    let y = if perm.iter().enumerate().all(|(i, &p)| i == p) { t.clone() } else { ops::transpose(t, Some(&perm))? };
    if y.shape() == sizes { Ok(y) } else { ops::broadcast_to(&y, sizes) }
}

/// Contracts a and b, keeping the letters in `keep` (in their order of appearance).
fn contract(a: (Tensor, Vec<char>), b: (Tensor, Vec<char>), needed: &dyn Fn(char) -> bool) -> Result<(Tensor, Vec<char>)> {
    let in_b = |c: char| b.1.contains(&c);
    let in_a = |c: char| a.1.contains(&c);
    let a = sum_unused(a.0, a.1.clone(), &|c| needed(c) || in_b(c))?;
    let b = sum_unused(b.0, b.1.clone(), &|c| needed(c) || in_a(c))?;
    let (batch, contracted): (Vec<char>, Vec<char>) = a.1.iter().filter(|c| b.1.contains(c)).partition(|&&c| needed(c));
    let a_free: Vec<char> = a.1.iter().copied().filter(|c| !b.1.contains(c)).collect();
    let b_free: Vec<char> = b.1.iter().copied().filter(|c| !a.1.contains(c)).collect();
    let size = |c: char| dims_of(&a.0, &a.1, c).max(dims_of(&b.0, &b.1, c));
    let prod = |cs: &[char]| cs.iter().map(|&c| size(c)).product::<usize>() as i64;
    let a_order: Vec<char> = batch.iter().chain(&a_free).chain(&contracted).copied().collect();
    let b_order: Vec<char> = batch.iter().chain(&contracted).chain(&b_free).copied().collect();
    let a_sizes: Vec<usize> = a_order.iter().map(|&c| if batch.contains(&c) { size(c) } else { dims_of(&a.0, &a.1, c) }).collect();
    let b_sizes: Vec<usize> = b_order.iter().map(|&c| if batch.contains(&c) { size(c) } else { dims_of(&b.0, &b.1, c) }).collect();
    let a3 = ops::reshape(&arrange(&a.0, &a.1, &a_order, &a_sizes)?, &[prod(&batch), prod(&a_free), prod(&contracted)])?;
    let b3 = ops::reshape(&arrange(&b.0, &b.1, &b_order, &b_sizes)?, &[prod(&batch), prod(&contracted), prod(&b_free)])?;
    let y = ops::matmul(&a3, &b3, false, false)?;
    let letters: Vec<char> = batch.iter().chain(&a_free).chain(&b_free).copied().collect();
    let shape: Vec<i64> = letters.iter().map(|&c| size(c) as i64).collect();
    Ok((ops::reshape(&y, &shape)?, letters))
}

pub fn einsum(equation: &str, operands: &[&Tensor]) -> Result<Tensor> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != operands.len() || operands.is_empty() {
        bail!(OP, "equation '{equation}' names {} operands, got {}", terms.len(), operands.len());
    }
    let mut ops_letters = Vec::new();
    for (t, x) in terms.iter().zip(operands) {
        let letters = expand(t, x.rank())?;
        let mut seen = letters.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            bail!(OP, "unsupported: Einsum term '{t}' repeats a letter (a diagonal)");
        }
        ops_letters.push(letters);
    }
    let ellipsis_rank = ops_letters.iter().map(|l| l.iter().filter(|c| c.is_ascii_digit()).count()).max().unwrap_or(0);
    let out: Vec<char> = match &rhs {
        Some(r) => {
            let mut o: Vec<char> = r.split("...").next().unwrap_or("").chars().collect();
            if r.contains("...") {
                o.extend(&ELLIPSIS_LETTERS[ELLIPSIS_LETTERS.len() - ellipsis_rank..]);
                o.extend(r.split_once("...").unwrap().1.chars());
            }
            o
        }
        None => {
            // Implicit output: the ellipsis, then the letters used once, in alphabetical order.
            let all: Vec<char> = ops_letters.iter().flatten().copied().collect();
            let mut once: Vec<char> = all.iter().copied().filter(|c| c.is_ascii_alphabetic() && all.iter().filter(|d| *d == c).count() == 1).collect();
            once.sort_unstable();
            ELLIPSIS_LETTERS[ELLIPSIS_LETTERS.len() - ellipsis_rank..].iter().copied().chain(once).collect()
        }
    };
    if let Some(c) = out.iter().find(|c| !ops_letters.iter().any(|l| l.contains(c))) {
        bail!(OP, "equation '{equation}': output letter '{c}' is in no operand");
    }
    let mut acc = (operands[0].clone(), ops_letters[0].clone());
    for i in 1..operands.len() {
        let later: Vec<char> = ops_letters[i + 1..].iter().flatten().copied().collect();
        let needed = |c: char| out.contains(&c) || later.contains(&c);
        acc = contract(acc, (operands[i].clone(), ops_letters[i].clone()), &needed)?;
    }
    let (t, letters) = sum_unused(acc.0, acc.1, &|c| out.contains(&c))?;
    let sizes: Vec<usize> = out.iter().map(|&c| dims_of(&t, &letters, c)).collect();
    arrange(&t, &letters, &out, &sizes)
}

// Native only: reading values back blocks on pollster, which the wasm build does not have.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::Device;

    fn t(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_f32(&Device::Cpu, v, s).unwrap()
    }

    fn vals(x: &Tensor) -> Vec<f32> {
        pollster::block_on(x.to_vec_f32()).unwrap()
    }

    #[test]
    fn contractions_match_hand_computed_values() {
        let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let b = t(&[1., 0., 0., 1., 1., 1.], &[3, 2]);
        assert_eq!(vals(&einsum("ij,jk->ik", &[&a, &b]).unwrap()), vec![4., 5., 10., 11.]);
        assert_eq!(vals(&einsum("ij->ji", &[&a]).unwrap()), vec![1., 4., 2., 5., 3., 6.]);
        assert_eq!(vals(&einsum("ij->", &[&a]).unwrap()), vec![21.]);
        assert_eq!(vals(&einsum("ij,ij->i", &[&a, &a]).unwrap()), vec![14., 77.]);
        let u = t(&[1., 2.], &[2]);
        let v = t(&[3., 4., 5.], &[3]);
        assert_eq!(vals(&einsum("i,j", &[&u, &v]).unwrap()), vec![3., 4., 5., 6., 8., 10.]);
        // Batched attention scores with an ellipsis: [1, 2, 3] x [1, 2, 3] -> [1, 2, 2].
        let q = t(&[1., 0., 0., 0., 1., 0.], &[1, 2, 3]);
        let k = t(&[1., 2., 3., 4., 5., 6.], &[1, 2, 3]);
        assert_eq!(vals(&einsum("...id,...jd->...ij", &[&q, &k]).unwrap()), vec![1., 4., 2., 5.]);
        assert!(einsum("ii->i", &[&t(&[1., 2., 3., 4.], &[2, 2])]).unwrap_err().to_string().contains("diagonal"));
    }
}
