//! Element types. Storage is a buffer of 32-bit words: float32 and int32 take a word an element,
//! `Bool` is stored as i32 0/1 (WGSL has no storable bool), and `F16` (IEEE half precision)
//! packs two elements a word, element 2j in the low half (the order of WGSL's
//! `unpack2x16float`). Half values are computed in float32: an expression reads them widened
//! and rounds once when it stores them (src/fusion), so `F16` is a storage type, never the type
//! an op computes in.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    I32,
    Bool,
    F16,
}

impl DType {
    /// Bytes an element takes in storage (2 for float16, else 4).
    pub const fn size_bytes(self) -> usize {
        match self {
            DType::F16 => 2,
            _ => 4,
        }
    }

    /// The 32-bit words that hold `n` elements.
    pub const fn words(self, n: usize) -> usize {
        match self {
            DType::F16 => n.div_ceil(2),
            _ => n,
        }
    }

    /// TF.js names: "float32", "int32", "bool"; and "float16".
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I32 => "int32",
            DType::Bool => "bool",
            DType::F16 => "float16",
        }
    }

    pub fn parse(name: &str) -> Option<DType> {
        match name {
            "float32" | "f32" => Some(DType::F32),
            "int32" | "i32" => Some(DType::I32),
            "bool" => Some(DType::Bool),
            "float16" | "f16" => Some(DType::F16),
            _ => None,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16)
    }

    /// The WGSL scalar type that holds one element's value in a kernel (a half is widened to f32).
    pub fn wgsl(self) -> &'static str {
        match self {
            DType::F32 | DType::F16 => "f32",
            DType::I32 | DType::Bool => "i32",
        }
    }

    /// The WGSL element type of a storage buffer of this dtype (halves are read as packed words).
    pub fn storage_wgsl(self) -> &'static str {
        match self {
            DType::F16 => "u32",
            other => other.wgsl(),
        }
    }

    /// The type two operands are computed in (TF.js `upcastType`): float wins, bool counts as
    /// int, and halves compute in float32.
    pub fn promote(a: DType, b: DType) -> DType {
        if a.is_float() || b.is_float() {
            DType::F32
        } else {
            DType::I32
        }
    }
}

/// Half-precision bits of the nearest half to `x` (ties to even; overflow to infinity).
pub fn f16_bits(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}

/// The float32 value of half-precision bits (exact).
pub fn f16_value(bits: u16) -> f32 {
    half::f16::from_bits(bits).to_f32()
}

/// The nearest half to `x` (ties to even, overflow to infinity), as float32.
pub fn round_half(x: f32) -> f32 {
    half::f16::from_f32(x).to_f32()
}

/// Element `i` of words holding packed halves, as float32.
pub fn half_at(words: &[u32], i: usize) -> f32 {
    f16_value((words[i / 2] >> ((i % 2) * 16)) as u16)
}

/// `values` rounded to halves, packed two a word.
pub fn pack_halves(values: &[f32]) -> Vec<u32> {
    values.chunks(2).map(|p| f16_bits(p[0]) as u32 | (p.get(1).map_or(0, |&v| f16_bits(v) as u32) << 16)).collect()
}

/// The first `n` halves of packed `words`, as float32.
pub fn unpack_halves(words: &[u32], n: usize) -> Vec<f32> {
    (0..n).map(|i| half_at(words, i)).collect()
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
