//! RMSprop (TF.js `tf.train.rmsprop`):
//! ms = rho ms + (1 - rho) g^2;  mom = momentum mom + lr g / sqrt(ms + eps);  p -= mom.
//! Centered, the mean gradient mg = rho mg + (1 - rho) g is kept too, and the denominator is
//! sqrt(ms - mg^2 + eps): the gradient's variance rather than its mean square.
use super::{Hyper, Rule};

pub static RMSPROP: Rule = Rule {
    name: "rmsprop",
    states: 2,
    initial_state: 0.0,
    wgsl: "    let ms = p.rho * s.x + (1.0 - p.rho) * g * g;
    let mom = p.momentum * s.y + p.lr * g / sqrt(ms + p.eps);
    return Step(x - mom, vec3<f32>(ms, mom, 0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let ms = h.rho * s[0] + (1.0 - h.rho) * g * g;
        let mom = h.momentum * s[1] + h.lr * g / (ms + h.eps).sqrt();
        s[0] = ms;
        s[1] = mom;
        *p -= mom;
    },
};

pub static CENTERED_RMSPROP: Rule = Rule {
    name: "rmsprop_centered",
    states: 3,
    initial_state: 0.0,
    wgsl: "    let ms = p.rho * s.x + (1.0 - p.rho) * g * g;
    let mg = p.rho * s.z + (1.0 - p.rho) * g;
    let mom = p.momentum * s.y + p.lr * g / sqrt(ms - mg * mg + p.eps);
    return Step(x - mom, vec3<f32>(ms, mom, mg));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let ms = h.rho * s[0] + (1.0 - h.rho) * g * g;
        let mg = h.rho * s[2] + (1.0 - h.rho) * g;
        let mom = h.momentum * s[1] + h.lr * g / (ms - mg * mg + h.eps).sqrt();
        s[0] = ms;
        s[1] = mom;
        s[2] = mg;
        *p -= mom;
    },
};
