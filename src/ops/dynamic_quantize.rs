//! Dynamic 8-bit quantization of activations (ONNX DynamicQuantizeLinear, which onnxruntime's
//! quantize_dynamic puts before every MatMulInteger): uint8 codes with the scale and zero point
//! that map x's range, widened to include 0, onto [0, 255]:
//!   scale = (max(x, 0) - min(x, 0)) / 255 (1 where that range is empty, as onnxruntime has it),
//!   zero = saturate(round(-min(x, 0) / scale)), y = saturate(round(x / scale) + zero),
//! rounding half to even. The CPU backend runs it as two passes over x (its range, then the
//! codes), leaving NaN out of the range and coding it 0 as onnxruntime does; elsewhere it is the
//! same arithmetic composed of the engine's ops (whose min and max reductions NaN may reach).
use crate::ops::{self, Reduce};
use crate::{bail, DType, Device, Result, Tensor};

const OP: &str = "dynamic_quantize_u8";

/// x's codes (int32 holding 0..=255, x's shape), scale (float32 scalar) and zero point (int32
/// scalar).
pub fn dynamic_quantize_u8(x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    if x.dtype() != DType::F32 {
        bail!(OP, "takes float32, got {} {:?}", x.dtype(), x.shape());
    }
    let device = x.device();
    if matches!(device, Device::Cpu) {
        let words = x.cpu_words()?;
        let values: &[f32] = bytemuck::cast_slice(&words);
        let (scale, zero) = parameters(range(values));
        let codes = values.iter().map(|&v| ((v / scale).round_ties_even() + zero).clamp(0.0, 255.0) as i32 as u32).collect();
        return Ok((
            Tensor::from_words(device, codes, x.shape(), DType::I32)?,
            Tensor::from_f32(device, &[scale], &[])?,
            Tensor::from_words(device, vec![zero as i32 as u32], &[], DType::I32)?,
        ));
    }
    composed(x)
}

/// The same arithmetic as engine ops (any backend).
fn composed(x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let scalar = |v: f64| ops::fill(x.device(), &[], v, DType::F32);
    let lo = ops::minimum(&ops::reduce(Reduce::Min, x, None, false)?, &scalar(0.0)?)?;
    let hi = ops::maximum(&ops::reduce(Reduce::Max, x, None, false)?, &scalar(0.0)?)?;
    let scale = ops::where_(&ops::equal(&hi, &lo)?, &scalar(1.0)?, &ops::div(&ops::sub(&hi, &lo)?, &scalar(255.0)?)?)?;
    let zero = ops::clip(&ops::round(&ops::neg(&ops::div(&lo, &scale)?)?)?, 0.0, 255.0)?;
    let y = ops::clip(&ops::add(&ops::round(&ops::div(x, &scale)?)?, &zero)?, 0.0, 255.0)?;
    Ok((ops::cast(&y, DType::I32)?, scale, ops::cast(&zero, DType::I32)?))
}

/// min(x, 0) and max(x, 0), NaN left out; eight lanes at a time so the loop vectorises.
fn range(values: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = ([0f32; 8], [0f32; 8]);
    let chunks = values.chunks_exact(8);
    for &v in chunks.remainder() {
        lo[0] = lo[0].min(v);
        hi[0] = hi[0].max(v);
    }
    for c in chunks {
        for i in 0..8 {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    (lo.iter().fold(0f32, |a, &b| a.min(b)), hi.iter().fold(0f32, |a, &b| a.max(b)))
}

/// The scale and the zero point (as f32) of the range [lo, hi] (lo <= 0 <= hi).
fn parameters((lo, hi): (f32, f32)) -> (f32, f32) {
    let scale = if hi == lo { 1.0 } else { (hi - lo) / 255.0 };
    (scale, (-lo / scale).round_ties_even().clamp(0.0, 255.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &Tensor) -> Vec<u32> {
        t.cpu_words().unwrap().clone()
    }

    /// The CPU passes give the composed ops' values bit for bit (an empty range, a value on a
    /// rounding boundary, ragged lengths), and onnxruntime's on an input with NaN.
    #[test]
    fn cpu_passes_match_the_composition_and_onnxruntime() {
        let cases: Vec<Vec<f32>> = vec![
            vec![0.0; 5],
            vec![1.0, -2.0, 0.5, 3.0, -0.75, 2.5, 1e-8, -1e9, 7.0, 0.0],
            (0..37).map(|i| (i as f32 * 0.37).sin() * 4.0 + 1.0).collect(),
            (0..20).map(|i| i as f32 * 0.5).collect(),
            vec![3.0, 5.0, 1.0],
        ];
        for v in cases {
            let x = Tensor::from_f32(&Device::Cpu, &v, &[v.len()]).unwrap();
            let (q, s, z) = dynamic_quantize_u8(&x).unwrap();
            let (cq, cs, cz) = composed(&x).unwrap();
            assert_eq!((words(&q), words(&s), words(&z)), (words(&cq), words(&cs), words(&cz)), "{v:?}");
        }
        // onnxruntime 1.20.1 on [NaN, 1, -2, 0]: codes [0, 255, 0, 170], scale 3 / 255, zero 170;
        // on zeros: scale 1, zero 0.
        let x = Tensor::from_f32(&Device::Cpu, &[f32::NAN, 1.0, -2.0, 0.0], &[4]).unwrap();
        let (q, s, z) = dynamic_quantize_u8(&x).unwrap();
        assert_eq!((words(&q), f32::from_bits(words(&s)[0]), words(&z)), (vec![0, 255, 0, 170], 3.0 / 255.0, vec![170]));
        let (_, s, z) = dynamic_quantize_u8(&Tensor::from_f32(&Device::Cpu, &[0.0; 3], &[3]).unwrap()).unwrap();
        assert_eq!((f32::from_bits(words(&s)[0]), words(&z)), (1.0, vec![0]));
    }
}
