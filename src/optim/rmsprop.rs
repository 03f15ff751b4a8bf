//! RMSprop (TF.js `tf.train.rmsprop`, uncentered):
//! ms = rho ms + (1 - rho) g^2;  mom = momentum mom + lr g / sqrt(ms + eps);  p -= mom.
use super::{Hyper, Rule};

pub static RMSPROP: Rule = Rule {
    name: "rmsprop",
    states: 2,
    initial_state: 0.0,
    wgsl: "    let ms = p.rho * s.x + (1.0 - p.rho) * g * g;
    let mom = p.momentum * s.y + p.lr * g / sqrt(ms + p.eps);
    return Step(x - mom, vec2<f32>(ms, mom));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 2]| {
        let ms = h.rho * s[0] + (1.0 - h.rho) * g * g;
        let mom = h.momentum * s[1] + h.lr * g / (ms + h.eps).sqrt();
        s[0] = ms;
        s[1] = mom;
        *p -= mom;
    },
};
