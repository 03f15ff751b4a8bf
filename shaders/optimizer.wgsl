// Fused optimizer update: one dispatch updates one parameter tensor in place, with its optimizer
// state. <STATE_BINDINGS> declares s0/s1 when the rule has state; <UPDATE> is the rule's body
// (src/optim/*.rs), reading g and h and writing p[i] and the state.

struct Hyper {
    n: u32,
    nesterov: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    momentum: f32,
    rho: f32,
    bc1: f32,   // 1 - beta1^t
    bc2: f32,   // 1 - beta2^t
    scale: f32, // gradient scale (clipping by global norm)
};

@group(0) @binding(0) var<uniform> h: Hyper;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
{{STATE_BINDINGS}}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= h.n) { return; }
    let g = grad[i] * h.scale;
{{UPDATE}}
}
