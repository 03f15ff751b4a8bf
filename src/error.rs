//! One error type for every fallible entry. Messages name the op and the shapes involved so that
//! a JS user reading `err.message` knows what to fix; the wasm facade turns it into a JS `Error`.
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The op or entry point that failed, e.g. "matmul" or "Tensor::from_f32".
    pub op: String,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error { op: op.into(), message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for Error {}

/// `bail!(op, "fmt", args..)` returns an `Err(Error)` from the current function.
#[macro_export]
macro_rules! bail {
    ($op:expr, $($arg:tt)*) => {
        return Err($crate::Error::new($op, format!($($arg)*)))
    };
}
