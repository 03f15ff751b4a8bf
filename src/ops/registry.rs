//! `op_family!`: the registry of one family of elementwise ops. Each op is a file holding its
//! definition (`pub const DEF`); the family lists each once, which declares the module and
//! gives the op its typed identity (an enum variant) and its place in the op table.

/// ```ignore
/// op_family! { pub enum UnaryOp: Unary { Neg => neg, Abs => abs } }
/// ```
/// declares `mod neg; mod abs;`, `enum UnaryOp { Neg, Abs }` (exported to JS as a numeric enum),
/// `UnaryOp::ALL`, `op.def()` (the file's `DEF`), `op.name()` and `UnaryOp::parse(name)`.
#[macro_export]
macro_rules! op_family {
    ($(#[$meta:meta])* pub enum $enum:ident : $def:ty { $($variant:ident => $file:ident),* $(,)? }) => {
        $(pub(crate) mod $file;)*

        $(#[$meta])*
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum { $($variant),* }

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            /// The op's definition (its file's `DEF`).
            pub fn def(self) -> &'static $def {
                match self { $($enum::$variant => &$file::DEF),* }
            }

            /// The engine's name, e.g. "leaky_relu".
            pub fn name(self) -> &'static str {
                self.def().name
            }

            /// The op named `name` (an importer's or a config's string, parsed at the border).
            pub fn parse(name: &str) -> Option<$enum> {
                $enum::ALL.iter().copied().find(|op| op.name() == name)
            }
        }
    };
}
