//! Elementwise fusion: elementwise ops build expressions instead of running kernels, and a chain
//! of them (forward or backward, with broadcasting and casts) runs as one generated kernel on the
//! GPU and one blocked loop on the CPU. See lazy.rs for when work runs, expr.rs for the IR,
//! program.rs for its execution layout, codegen.rs and cpu.rs for the two backends,
//! replay.rs for gradient rules in a recorded backward pass.
mod codegen;
mod cpu;
mod expr;
mod lazy;
mod program;
mod replay;

pub use expr::{abs, cos, erf, exp, log, select, sigmoid, sign, sin, sqrt, tanh, Expr, Node, Read, E};
pub use lazy::{fused_input, leaf_buffers, prologue, realize, realize_all, preserve_for_readers, uniform_with_fused, Pending, Space, MAX_BUFFERS, MAX_INSTS};
pub use program::Program;
pub use replay::gradient_exprs;
