//! Kernel parameters declared once. `params!` writes a kernel's uniform struct in Rust (plain old
//! data, copied byte for byte into the uniform arena) and derives its WGSL declaration from the
//! same field list, so the two cannot drift apart. Offsets are checked at compile time: a field
//! that WGSL's uniform layout would place elsewhere (an array not on a 16-byte boundary) fails to
//! build, instead of silently reading the neighbouring field.

/// A Rust field type and the WGSL type it is declared as in a uniform struct.
pub trait WgslType {
    /// The WGSL type.
    fn wgsl() -> String;
    /// Its alignment in WGSL's uniform address space (bytes).
    const ALIGN: usize;
}

impl WgslType for u32 {
    fn wgsl() -> String {
        "u32".into()
    }
    const ALIGN: usize = 4;
}

impl WgslType for i32 {
    fn wgsl() -> String {
        "i32".into()
    }
    const ALIGN: usize = 4;
}

impl WgslType for f32 {
    fn wgsl() -> String {
        "f32".into()
    }
    const ALIGN: usize = 4;
}

/// `[u32; 4k]` is `array<vec4<u32>, k>` in WGSL (uniform arrays need a 16-byte stride): element
/// `j` is read as `v[j / 4u][j % 4u]`.
impl<const N: usize> WgslType for [u32; N] {
    fn wgsl() -> String {
        assert!(N % 4 == 0, "uniform u32 arrays come in whole vec4s");
        format!("array<vec4<u32>, {}>", N / 4)
    }
    const ALIGN: usize = 16;
}

impl<const N: usize> WgslType for [f32; N] {
    fn wgsl() -> String {
        assert!(N % 4 == 0, "uniform f32 arrays come in whole vec4s");
        format!("array<vec4<f32>, {}>", N / 4)
    }
    const ALIGN: usize = 16;
}

/// Declares a kernel's uniform parameters:
///
/// ```ignore
/// params! {
///     /// Reduction of x viewed as [outer, r, inner] over r.
///     pub struct ReduceParams { outer: u32, r: u32, inner: u32, scale: f32 }
/// }
/// ```
///
/// gives the `#[repr(C)]` struct (all fields public) and `ReduceParams::wgsl_fields()`, the body
/// of its WGSL struct. `kernel::Source` declares `struct Params { ... }` from it.
#[macro_export]
macro_rules! params {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name { $($(#[$fmeta])* pub $field: $ty),* }

        impl $name {
            /// The fields as WGSL struct members, one per line.
            pub fn wgsl_fields() -> String {
                let mut s = String::new();
                $( s += &format!("    {}: {},\n", stringify!($field), <$ty as $crate::kernel::params::WgslType>::wgsl()); )*
                s
            }
        }

        // WGSL aligns each member to its type; Rust's repr(C) packs 4-byte fields. They agree
        // exactly when every member already sits on its WGSL alignment.
        const _: () = {
            $( assert!(
                std::mem::offset_of!($name, $field) % <$ty as $crate::kernel::params::WgslType>::ALIGN == 0,
                concat!("params!: ", stringify!($name), ".", stringify!($field), " is not on its WGSL alignment; add padding before it"),
            ); )*
        };
    };
}

#[cfg(test)]
mod tests {
    crate::params! {
        struct Example { n: u32, scale: f32, _pad0: u32, _pad1: u32, dims: [u32; 8] }
    }

    #[test]
    fn fields_are_declared_as_in_rust() {
        assert_eq!(Example::wgsl_fields(), "    n: u32,\n    scale: f32,\n    _pad0: u32,\n    _pad1: u32,\n    dims: array<vec4<u32>, 2>,\n");
        assert_eq!(std::mem::size_of::<Example>(), 48);
    }
}
