//! SGD, with momentum and Nesterov momentum (TF.js `tf.train.sgd` / `tf.train.momentum`):
//! v = momentum * v + g;  p -= lr * v  (Nesterov: p -= lr * (g + momentum * v)).
use super::{Hyper, Rule};

pub static SGD: Rule = Rule {
    name: "sgd",
    states: 0,
    initial_state: 0.0,
    wgsl: "    return Step(x - p.lr * g, vec3<f32>(0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, _s: &mut [f32; 3]| *p -= h.lr * g,
};

pub static MOMENTUM: Rule = Rule {
    name: "momentum",
    states: 1,
    initial_state: 0.0,
    wgsl: "    let v = p.momentum * s.x + g;
    return Step(x - p.lr * select(v, g + p.momentum * v, p.nesterov != 0u), vec3<f32>(v, 0.0, 0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let v = h.momentum * s[0] + g;
        s[0] = v;
        *p -= h.lr * if h.nesterov != 0 { g + h.momentum * v } else { v };
    },
};
