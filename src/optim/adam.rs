//! Adam and AdamW (TF.js `tf.train.adam`; AdamW's weight decay is decoupled, applied to the
//! parameter and not through the moments):
//! m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//! p -= lr * (m / bc1) / (sqrt(v / bc2) + eps) + lr * wd * p,  bc = 1 - beta^t.
use super::{Hyper, Rule};

pub static ADAM: Rule = Rule {
    name: "adam",
    states: 2,
    initial_state: 0.0,
    wgsl: "    let m = p.beta1 * s.x + (1.0 - p.beta1) * g;
    let v = p.beta2 * s.y + (1.0 - p.beta2) * g * g;
    return Step(x - p.lr * (m / p.bc1) / (sqrt(v / p.bc2) + p.eps) - p.lr * p.weight_decay * x, vec3<f32>(m, v, 0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let m = h.beta1 * s[0] + (1.0 - h.beta1) * g;
        let v = h.beta2 * s[1] + (1.0 - h.beta2) * g * g;
        s[0] = m;
        s[1] = v;
        let old = *p;
        *p = old - h.lr * (m / h.bc1) / ((v / h.bc2).sqrt() + h.eps) - h.lr * h.weight_decay * old;
    },
};
