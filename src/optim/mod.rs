//! Optimizers that update parameters in place on their device, one fused kernel dispatch per
//! parameter tensor (gradient, state and parameter read once, written once). Each rule is a
//! file: sgd.rs (plain, momentum, Nesterov), adam.rs (Adam, AdamW), rmsprop.rs, adagrad.rs.
//! The CPU backend runs the same rule as a Rust function.
pub mod adagrad;
pub mod adam;
pub mod rmsprop;
pub mod sgd;

use std::collections::HashMap;

use bytemuck::{Pod, Zeroable};

use crate::autograd::no_grad;
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::kernel::fill_template;
use crate::tensor::{Data, Tensor};
use crate::{bail, ops, DType, Result};

const TEMPLATE: &str = include_str!("../../shaders/optimizer.wgsl");

/// Hyper-parameters of one update, as the kernel's uniform.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
pub struct Hyper {
    pub n: u32,
    pub nesterov: u32,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    pub rho: f32,
    pub bc1: f32,
    pub bc2: f32,
    pub scale: f32,
}

/// An update rule: its WGSL body and its CPU twin.
pub struct Rule {
    pub name: &'static str,
    /// State tensors per parameter (0, 1 or 2), and their initial value.
    pub states: usize,
    pub initial_state: f32,
    /// Body over `g` (the scaled gradient), `h` (Hyper), `p[i]`, `s0[i]`, `s1[i]`.
    pub wgsl: &'static str,
    /// The same on the CPU: (hyper, parameter, gradient, state).
    pub cpu: fn(&Hyper, &mut f32, f32, &mut [f32; 2]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Sgd,
    Momentum { momentum: f32, nesterov: bool },
    Adam { beta1: f32, beta2: f32, eps: f32 },
    AdamW { beta1: f32, beta2: f32, eps: f32, weight_decay: f32 },
    RmsProp { rho: f32, momentum: f32, eps: f32 },
    Adagrad { initial_accumulator: f32, eps: f32 },
}

impl Kind {
    fn rule(&self) -> &'static Rule {
        match self {
            Kind::Sgd => &sgd::SGD,
            Kind::Momentum { .. } => &sgd::MOMENTUM,
            Kind::Adam { .. } | Kind::AdamW { .. } => &adam::ADAM,
            Kind::RmsProp { .. } => &rmsprop::RMSPROP,
            Kind::Adagrad { .. } => &adagrad::ADAGRAD,
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
            Kind::RmsProp { rho, momentum, eps } => {
                h.rho = rho;
                h.momentum = momentum;
                h.eps = eps;
            }
            Kind::Adagrad { eps, .. } => h.eps = eps,
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
            h.n = p.numel() as u32;
            apply(rule, &h, p, &g, &entry.1, scale)?;
            p.zero_grad();
        }
        Ok(())
    }

    /// State tensors held (for memory accounting).
    pub fn state_tensors(&self) -> usize {
        self.state.values().map(|(_, s)| s.len()).sum()
    }
}

/// One parameter's update, in place (`step_scaled` has kept its old values for pending readers).
fn apply(rule: &Rule, h: &Hyper, p: &Tensor, g: &Tensor, states: &[Tensor], scale: Option<&Tensor>) -> Result<()> {
    match (p.data()?, p.device()) {
        (Data::Cpu(words), Device::Cpu) => {
            let mut h = *h;
            if let Some(s) = scale {
                h.scale = f32::from_bits(s.cpu_words()?[0]);
            }
            let gw = g.cpu_words()?;
            let mut pw = words.borrow_mut();
            let mut sw = states.iter().map(|s| s.cpu_words_mut()).collect::<Result<Vec<_>>>()?;
            let mut st = [0f32; 2];
            for i in 0..p.numel() {
                let mut pv = f32::from_bits(pw[i]);
                for (k, s) in sw.iter().enumerate() {
                    st[k] = f32::from_bits(s[i]);
                }
                (rule.cpu)(&h, &mut pv, f32::from_bits(gw[i]) * h.scale, &mut st);
                pw[i] = pv.to_bits();
                for (k, s) in sw.iter_mut().enumerate() {
                    s[i] = st[k].to_bits();
                }
            }
        }
        (Data::Gpu(buf), Device::Gpu(ctx)) => {
            // A device-side scale multiplies the gradient first (one small elementwise op), so
            // the update kernel itself never waits on the host.
            let scaled;
            let g = match scale {
                Some(s) => {
                    scaled = no_grad(|| ops::mul(g, s))?;
                    &scaled
                }
                None => g,
            };
            let key = format!("optim:{}", rule.name);
            let kernel = ctx.kernel(&key, || {
                let mut bindings = String::new();
                for k in 0..rule.states {
                    bindings += &format!("@group(0) @binding({}) var<storage, read_write> s{k}: array<f32>;\n", k + 3);
                }
                fill_template(TEMPLATE, &[("STATE_BINDINGS", &bindings), ("UPDATE", rule.wgsl)])
            });
            let mut buffers = vec![buf.raw(), g.gpu_buffer()?.raw()];
            for s in states {
                buffers.push(s.gpu_buffer()?.raw());
            }
            ctx.dispatch(&kernel, bytemuck::bytes_of(h), &buffers, grid_2d((h.n as u64).div_ceil(256))?);
        }
        _ => unreachable!("storage matches its device"),
    }
    Ok(())
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
