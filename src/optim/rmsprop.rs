//! RMSprop (TF.js `tf.train.rmsprop`, uncentered):
//! ms = rho ms + (1 - rho) g^2;  mom = momentum mom + lr g / sqrt(ms + eps);  p -= mom.
use super::{Hyper, Rule};

pub static RMSPROP: Rule = Rule {
    name: "rmsprop",
    states: 2,
    initial_state: 0.0,
    wgsl: "    let ms = h.rho * s0[i] + (1.0 - h.rho) * g * g;
    let mom = h.momentum * s1[i] + h.lr * g / sqrt(ms + h.eps);
    s0[i] = ms;
    s1[i] = mom;
    p[i] = p[i] - mom;",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 2]| {
        let ms = h.rho * s[0] + (1.0 - h.rho) * g * g;
        let mom = h.momentum * s[1] + h.lr * g / (ms + h.eps).sqrt();
        s[0] = ms;
        s[1] = mom;
        *p -= mom;
    },
};
