//! Adadelta (TF.js `tf.train.adadelta`): running averages of squared gradients and of squared
//! updates set each parameter's step size. As TF.js computes it, the step divides by the gradient
//! average from before this gradient (so the first step is lr g):
//! d = sqrt(b + eps) / sqrt(a + eps) g;  a = rho a + (1 - rho) g^2;  b = rho b + (1 - rho) d^2;
//! p -= lr d.
use super::{Hyper, Rule};

pub static ADADELTA: Rule = Rule {
    name: "adadelta",
    states: 2,
    initial_state: 0.0,
    wgsl: "    let d = sqrt(s.y + p.eps) / sqrt(s.x + p.eps) * g;
    let a = p.rho * s.x + (1.0 - p.rho) * g * g;
    let b = p.rho * s.y + (1.0 - p.rho) * d * d;
    return Step(x - p.lr * d, vec3<f32>(a, b, 0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let d = (s[1] + h.eps).sqrt() / (s[0] + h.eps).sqrt() * g;
        s[0] = h.rho * s[0] + (1.0 - h.rho) * g * g;
        s[1] = h.rho * s[1] + (1.0 - h.rho) * d * d;
        *p -= h.lr * d;
    },
};
