//! Element types. Every dtype is 4 bytes wide so that all storage is a plain 32-bit word buffer:
//! `Bool` is stored as i32 0/1 (WGSL has no storable bool).
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    I32,
    Bool,
}

impl DType {
    pub const fn size_bytes(self) -> usize {
        4
    }

    /// TF.js names: "float32", "int32", "bool".
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I32 => "int32",
            DType::Bool => "bool",
        }
    }

    pub fn parse(name: &str) -> Option<DType> {
        match name {
            "float32" | "f32" => Some(DType::F32),
            "int32" | "i32" => Some(DType::I32),
            "bool" => Some(DType::Bool),
            _ => None,
        }
    }

    /// The WGSL scalar type that holds one element.
    pub fn wgsl(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::I32 | DType::Bool => "i32",
        }
    }

    /// The type two operands are computed in (TF.js `upcastType`): float wins, bool counts as int.
    pub fn promote(a: DType, b: DType) -> DType {
        if a == DType::F32 || b == DType::F32 {
            DType::F32
        } else {
            DType::I32
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
