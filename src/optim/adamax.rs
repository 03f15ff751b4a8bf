//! Adamax (TF.js `tf.train.adamax`): Adam with the infinity norm in place of the second moment.
//! m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lr_t / (1 - b1^t) m / (u + eps), where
//! lr_t = lr / (1 + decay (t - 1)) is computed on the host (the step's `lr`) and 1 - b1^t is `bc1`.
use super::{Hyper, Rule};

pub static ADAMAX: Rule = Rule {
    name: "adamax",
    states: 2,
    initial_state: 0.0,
    wgsl: "    let m = p.beta1 * s.x + (1.0 - p.beta1) * g;
    let u = max(p.beta2 * s.y, abs(g));
    return Step(x - p.lr / p.bc1 * m / (u + p.eps), vec3<f32>(m, u, 0.0));",
    cpu: |h: &Hyper, p: &mut f32, g: f32, s: &mut [f32; 3]| {
        let m = h.beta1 * s[0] + (1.0 - h.beta1) * g;
        let u = (h.beta2 * s[1]).max(g.abs());
        s[0] = m;
        s[1] = u;
        *p -= h.lr / h.bc1 * m / (u + h.eps);
    },
};
