//! Optimizers that update parameters in place on their device: each rule is a file (sgd.rs:
//! plain, momentum, Nesterov; adam.rs: Adam, AdamW; rmsprop.rs; adagrad.rs; adamax.rs; adadelta.rs) with its WGSL and its
//! CPU twin. On the GPU one dispatch updates several parameters at once (as many as the device
//! lets one kernel bind: parameter, gradient and state buffers for each), reading each gradient,
//! state and parameter once and writing them once; the CPU backend runs the same rule.
pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod adamax;
pub mod rmsprop;
pub mod sgd;

use std::collections::HashMap;

use bytemuck::Zeroable;

use crate::autograd::no_grad;
use crate::device::gpu::{grid_2d, GpuContext};
use crate::device::Device;
use crate::kernel::Source;
use crate::tensor::{Data, Tensor};
use crate::{bail, ops, DType, Result};

/// Parameters updated by one dispatch, at most.
const MAX_SLOTS: usize = 8;

crate::params! {
    /// Hyper-parameters of one update (shaders/optimizer.wgsl's `p`; the CPU rules read the same
    /// fields), and where each parameter of a dispatch ends in its flat index space.
    pub struct Hyper {
        n: u32, nesterov: u32, lr: f32, beta1: f32,
        beta2: f32, eps: f32, weight_decay: f32, momentum: f32,
        rho: f32, bc1: f32, bc2: f32, scale: f32,
        count: u32, _pad0: u32, _pad1: u32, _pad2: u32,
        ends: [u32; 8],
    }
}

/// An update rule: its WGSL and its CPU twin.
pub struct Rule {
    pub name: &'static str,
    /// State tensors per parameter (0 to 3), and their initial value.
    pub states: usize,
    pub initial_state: f32,
    /// The body of `fn rule(x: f32, g: f32, s: vec3<f32>) -> Step`: the new parameter and state
    /// (`Step(x', vec3(s0', s1', s2'))`) from the parameter `x`, the (scaled) gradient `g`, the state
    /// `s`, and the hyper-parameters `p`.
    pub wgsl: &'static str,
    /// The same on the CPU: (hyper, parameter, gradient, state).
    pub cpu: fn(&Hyper, &mut f32, f32, &mut [f32; 3]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Sgd,
    Momentum { momentum: f32, nesterov: bool },
    Adam { beta1: f32, beta2: f32, eps: f32 },
    AdamW { beta1: f32, beta2: f32, eps: f32, weight_decay: f32 },
    /// `centered`: divide by the gradient's variance (mean square minus squared mean) rather
    /// than its mean square.
    RmsProp { rho: f32, momentum: f32, eps: f32, centered: bool },
    Adagrad { initial_accumulator: f32, eps: f32 },
    /// `decay` shrinks the learning rate over steps: lr / (1 + decay (t - 1)).
    Adamax { beta1: f32, beta2: f32, eps: f32, decay: f32 },
    Adadelta { rho: f32, eps: f32 },
}

impl Kind {
    fn rule(&self) -> &'static Rule {
        match self {
            Kind::Sgd => &sgd::SGD,
            Kind::Momentum { .. } => &sgd::MOMENTUM,
            Kind::Adam { .. } | Kind::AdamW { .. } => &adam::ADAM,
            Kind::RmsProp { centered: false, .. } => &rmsprop::RMSPROP,
            Kind::RmsProp { centered: true, .. } => &rmsprop::CENTERED_RMSPROP,
            Kind::Adagrad { .. } => &adagrad::ADAGRAD,
            Kind::Adamax { .. } => &adamax::ADAMAX,
            Kind::Adadelta { .. } => &adadelta::ADADELTA,
        }
    }
}

pub struct Optimizer {
    pub kind: Kind,
    pub learning_rate: f32,
    /// Updates applied so far (Adam's bias correction uses it).
    pub iterations: u32,
    /// Optimizer state per parameter, keyed by the parameter's identity; holding the parameter
    /// keeps that identity from being reused by another tensor.
    state: HashMap<*const (), (Tensor, Vec<Tensor>)>,
}

impl Optimizer {
    pub fn new(kind: Kind, learning_rate: f32) -> Self {
        Optimizer { kind, learning_rate, iterations: 0, state: HashMap::new() }
    }

    /// Applies one update to each parameter from its accumulated `grad()` (parameters without a
    /// gradient are left alone), then clears the gradients.
    pub fn step(&mut self, params: &[Tensor]) -> Result<()> {
        self.step_scaled(params, None)
    }

    /// `step`, with every gradient multiplied by `scale` (a device scalar, e.g. from
    /// `clip_by_global_norm`) inside the same fused kernels.
    pub fn step_scaled(&mut self, params: &[Tensor], scale: Option<&Tensor>) -> Result<()> {
        const OP: &str = "optimizer.step";
        if let Some(s) = scale {
            if s.numel() != 1 || s.dtype() != DType::F32 {
                bail!(OP, "the gradient scale must be a float32 scalar, got shape {:?} ({})", s.shape(), s.dtype());
            }
            if let Some(p) = params.first() {
                if !s.device().same(p.device()) {
                    bail!(OP, "the gradient scale lives on {} but the parameters on {}", s.device().backend_name(), p.device().backend_name());
                }
            }
        }
        for p in params {
            if p.dtype() != DType::F32 {
                bail!(OP, "parameter of shape {:?} is {}, not float32", p.shape(), p.dtype());
            }
            if !p.device().same(params[0].device()) {
                bail!(OP, "parameters live on different backends ({} and {})", params[0].device().backend_name(), p.device().backend_name());
            }
            if let Some(g) = p.grad() {
                if g.shape() != p.shape() || !g.device().same(p.device()) {
                    bail!(OP, "gradient of shape {:?} does not match its parameter {:?}", g.shape(), p.shape());
                }
            }
        }
        self.iterations += 1;
        let t = self.iterations as f64;
        let rule = self.kind.rule();
        let mut h = Hyper::zeroed();
        h.lr = self.learning_rate;
        h.scale = 1.0;
        match self.kind {
            Kind::Sgd => {}
            Kind::Momentum { momentum, nesterov } => {
                h.momentum = momentum;
                h.nesterov = nesterov as u32;
            }
            Kind::Adam { beta1, beta2, eps } | Kind::AdamW { beta1, beta2, eps, .. } => {
                h.beta1 = beta1;
                h.beta2 = beta2;
                h.eps = eps;
                h.bc1 = (1.0 - (beta1 as f64).powf(t)) as f32;
                h.bc2 = (1.0 - (beta2 as f64).powf(t)) as f32;
                if let Kind::AdamW { weight_decay, .. } = self.kind {
                    h.weight_decay = weight_decay;
                }
            }
            Kind::RmsProp { rho, momentum, eps, .. } => {
                h.rho = rho;
                h.momentum = momentum;
                h.eps = eps;
            }
            Kind::Adagrad { eps, .. } => h.eps = eps,
            Kind::Adamax { beta1, beta2, eps, decay } => {
                h.beta1 = beta1;
                h.beta2 = beta2;
                h.eps = eps;
                h.bc1 = (1.0 - (beta1 as f64).powf(t)) as f32;
                h.lr = (self.learning_rate as f64 / (1.0 + decay as f64 * (t - 1.0))) as f32;
            }
            Kind::Adadelta { rho, eps } => {
                h.rho = rho;
                h.eps = eps;
            }
        }
        let initial = match self.kind {
            Kind::Adagrad { initial_accumulator, .. } => initial_accumulator,
            _ => rule.initial_state,
        };
        // Parameters and their state are updated in place: pending tensors still reading them
        // keep today's values (one pass for all of them).
        let mut overwritten: Vec<&Tensor> = Vec::new();
        for p in params.iter().filter(|p| p.grad().is_some()) {
            p.data()?;
            overwritten.push(p);
            if let Some((_, states)) = self.state.get(&p.id()) {
                overwritten.extend(states.iter());
            }
        }
        crate::fusion::preserve_for_readers(&overwritten)?;
        let mut updates: Vec<(Tensor, Tensor, Vec<Tensor>)> = Vec::new();
        for p in params {
            let Some(g) = p.grad() else { continue };
            let entry = match self.state.get(&p.id()) {
                Some(e) => e,
                None => {
                    let states = (0..rule.states)
                        .map(|_| no_grad(|| ops::fill(p.device(), p.shape(), initial as f64, DType::F32)))
                        .collect::<Result<Vec<_>>>()?;
                    self.state.entry(p.id()).or_insert((p.clone(), states))
                }
            };
            // A device-side scale multiplies the gradient first (pending: it fuses with whatever
            // computed the gradient), so the update itself never waits on the host.
            let g = match scale {
                Some(s) => no_grad(|| ops::mul(&g, s))?,
                None => g,
            };
            updates.push((p.clone(), g, entry.1.clone()));
            p.zero_grad();
        }
        match params.first().map(|p| p.device()) {
            Some(Device::Gpu(ctx)) => {
                let slots = (ctx.limits.max_storage_buffers_per_shader_stage as usize / (2 + rule.states)).clamp(1, MAX_SLOTS);
                for group in updates.chunks(slots) {
                    apply_gpu(ctx, rule, &h, group)?;
                }
            }
            _ => {
                for (p, g, states) in &updates {
                    apply_cpu(rule, &h, p, g, states)?;
                }
            }
        }
        Ok(())
    }

    /// State tensors held (for memory accounting).
    pub fn state_tensors(&self) -> usize {
        self.state.values().map(|(_, s)| s.len()).sum()
    }
}

/// One parameter's update on the CPU, in place.
fn apply_cpu(rule: &Rule, h: &Hyper, p: &Tensor, g: &Tensor, states: &[Tensor]) -> Result<()> {
    let Data::Cpu(words) = p.data()? else { unreachable!("a CPU parameter") };
    p.storage().packs.written();
    let gw = g.cpu_words()?;
    let mut pw = words.borrow_mut();
    let mut sw = states.iter().map(|s| s.cpu_words_mut()).collect::<Result<Vec<_>>>()?;
    let mut st = [0f32; 3];
    for i in 0..p.numel() {
        let mut pv = f32::from_bits(pw[i]);
        for (k, s) in sw.iter().enumerate() {
            st[k] = f32::from_bits(s[i]);
        }
        (rule.cpu)(h, &mut pv, f32::from_bits(gw[i]), &mut st);
        pw[i] = pv.to_bits();
        for (k, s) in sw.iter_mut().enumerate() {
            s[i] = st[k].to_bits();
        }
    }
    Ok(())
}

/// Updates of several parameters in one dispatch: thread t finds its parameter by the running
/// ends, then runs the rule on that parameter's element.
fn apply_gpu(ctx: &std::rc::Rc<GpuContext>, rule: &Rule, h: &Hyper, group: &[(Tensor, Tensor, Vec<Tensor>)]) -> Result<()> {
    let mut h = *h;
    h.count = group.len() as u32;
    let mut end = 0u32;
    for (k, (p, _, _)) in group.iter().enumerate() {
        end += p.numel() as u32;
        h.ends[k] = end;
    }
    h.n = end;
    let key = format!("optim:{}:{}", rule.name, group.len());
    let kernel = ctx.kernel(&key, || source(rule, group.len()));
    let mut buffers = Vec::new();
    for (p, g, states) in group {
        buffers.push(p.gpu_buffer()?.raw());
        buffers.push(g.gpu_buffer()?.raw());
        for s in states {
            buffers.push(s.gpu_buffer()?.raw());
        }
    }
    ctx.dispatch(&kernel, bytemuck::bytes_of(&h), &buffers, grid_2d((end as u64).div_ceil(256))?);
    Ok(())
}

/// shaders/optimizer.wgsl for `slots` parameters: each slot's buffers (param, grad, state) and
/// its update function, then the rule.
fn source(rule: &Rule, slots: usize) -> String {
    let mut src = Source::new(&Hyper::wgsl_fields());
    let mut defs = format!("fn rule(x: f32, g: f32, s: vec3<f32>) -> Step {{\n{}\n}}\nfn update(k: u32, i: u32) {{\n    switch k {{\n", rule.wgsl);
    for k in 0..slots {
        defs += &format!("        case {k}u: {{ update{k}(i); }}\n");
    }
    defs += "        default: {}\n    }\n}\n";
    for k in 0..slots {
        src = src.buffer(&format!("param{k}"), "f32", true).buffer(&format!("grad{k}"), "f32", false);
        let mut state = ["0.0".to_string(), "0.0".to_string(), "0.0".to_string()];
        let mut store = String::new();
        for (j, lane) in ["x", "y", "z"].iter().enumerate().take(rule.states) {
            src = src.buffer(&format!("s{j}_{k}"), "f32", true);
            state[j] = format!("s{j}_{k}[i]");
            store += &format!(" s{j}_{k}[i] = r.s.{lane};");
        }
        defs += &format!(
            "fn update{k}(i: u32) {{ let r = rule(param{k}[i], grad{k}[i] * p.scale, vec3<f32>({}, {}, {})); param{k}[i] = r.p;{store} }}\n",
            state[0], state[1], state[2]
        );
    }
    src.define(&defs).body(include_str!("../../shaders/optimizer.wgsl"))
}

/// Scales gradients so their global L2 norm is at most `max_norm` (computed on the device; no
/// readback). Returns the norm before clipping and the scale to pass to `step_scaled`.
pub fn clip_by_global_norm(params: &[Tensor], max_norm: f32) -> Result<(Tensor, Tensor)> {
    const OP: &str = "clip_by_global_norm";
    let grads: Vec<Tensor> = params.iter().filter_map(|p| p.grad()).collect();
    let Some(first) = grads.first() else { bail!(OP, "no parameter has a gradient") };
    no_grad(|| {
        let mut total = ops::fill(first.device(), &[], 0.0, DType::F32)?;
        for g in &grads {
            total = ops::add(&total, &ops::sum(&ops::square(g)?, None, false)?)?;
        }
        let norm = ops::sqrt(&total)?;
        let limit = ops::fill(first.device(), &[], max_norm as f64, DType::F32)?;
        let tiny = ops::fill(first.device(), &[], 1e-6, DType::F32)?;
        let one = ops::fill(first.device(), &[], 1.0, DType::F32)?;
        let scale = ops::minimum(&one, &ops::div(&limit, &ops::add(&norm, &tiny)?)?)?;
        Ok((norm, scale))
    })
}
