//! Adagrad (TF.js `tf.train.adagrad`): acc += g^2;  p -= lr g / sqrt(acc + eps); the
//! accumulator starts at `initial_accumulator` (TF.js default 0.1).
use super::{Hyper, Rule};

pub static ADAGRAD: Rule = Rule {
    name: "adagrad",
    states: 1,
    initial_state: 0.1,
    wgsl: "    let acc = s.x + g * g;
    return Step(x - p.lr * g / sqrt(acc + p.eps), vec3<f32>(acc, 0.0, 0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let acc = s[0] + g * g;
        s[0] = acc;
        *p -= h.lr * g / (acc + h.eps).sqrt();
    },
};
