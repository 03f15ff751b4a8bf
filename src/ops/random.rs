//! Seeded random tensors. The generator is counter-based (a PCG hash of seed, stream and element
//! index), so the GPU draws every element in parallel and the CPU backend draws the very same
//! bits: a seeded model initialises identically on both backends.
use std::cell::Cell;

use crate::device::Device;
use crate::fusion::{Space, E};
use crate::{Result, Tensor};

pub fn pcg_hash(v: u32) -> u32 {
    let state = v.wrapping_mul(747796405).wrapping_add(2891336453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277803737);
    (word >> 22) ^ word
}

pub fn rand_u32(seed: u32, i: u32, stream: u32) -> u32 {
    pcg_hash(pcg_hash(seed ^ stream.wrapping_mul(0x9e3779b9)) ^ i)
}

pub fn rand_unit(seed: u32, i: u32, stream: u32) -> f32 {
    (rand_u32(seed, i, stream) >> 8) as f32 * (1.0 / 16777216.0)
}

pub fn rand_normal(seed: u32, i: u32) -> f32 {
    let u1 = ((rand_u32(seed, i, 0) >> 8) + 1) as f32 * (1.0 / 16777216.0);
    let u2 = rand_unit(seed, i, 1);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

thread_local! {
    static NEXT_SEED: Cell<u32> = const { Cell::new(0x5eed_1234) };
}

/// A fresh seed for calls that pass none (deterministic per program run, like TF.js without a seed
/// is not; pass a seed for reproducibility across runs).
pub fn next_seed() -> u32 {
    NEXT_SEED.with(|s| {
        let v = pcg_hash(s.get());
        s.set(v);
        v
    })
}

/// Uniform values in [min, max).
pub fn random_uniform(device: &Device, shape: &[usize], min: f32, max: f32, seed: Option<u32>) -> Result<Tensor> {
    let seed = seed.unwrap_or_else(next_seed);
    Space::on("random_uniform", shape, device)?.tensor(E::random(false, seed) * (max - min) + min)
}

/// Normal values with the given mean and standard deviation.
pub fn random_normal(device: &Device, shape: &[usize], mean: f32, std: f32, seed: Option<u32>) -> Result<Tensor> {
    let seed = seed.unwrap_or_else(next_seed);
    Space::on("random_normal", shape, device)?.tensor(E::random(true, seed) * std + mean)
}
