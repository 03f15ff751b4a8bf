//! SGD, with momentum and Nesterov momentum (TF.js `tf.train.sgd` / `tf.train.momentum`):
//! v = momentum * v + g;  p -= lr * v  (Nesterov: p -= lr * (g + momentum * v)).
use super::{Hyper, Rule};

pub static SGD: Rule = Rule {
    name: "sgd",
    states: 0,
    initial_state: 0.0,
    wgsl: "    p[i] = p[i] - h.lr * g;",
    cpu: |h: &Hyper, p: &mut f32, g: f32, _s: &mut [f32; 2]| *p -= h.lr * g,
};

pub static MOMENTUM: Rule = Rule {
    name: "momentum",
    states: 1,
    initial_state: 0.0,
    wgsl: "    let v = h.momentum * s0[i] + g;
    s0[i] = v;
    p[i] = p[i] - h.lr * select(v, g + h.momentum * v, h.nesterov != 0u);",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 2]| {
        let v = h.momentum * s[0] + g;
        s[0] = v;
        *p -= h.lr * if h.nesterov != 0 { g + h.momentum * v } else { v };
    },
};
