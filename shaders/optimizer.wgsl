// Fused optimizer updates: one dispatch updates up to eight parameter tensors in place, with
// their optimizer state. Thread t belongs to the first parameter whose running end (p.ends)
// exceeds t. The prelude (src/optim/mod.rs) declares each parameter's buffers and update<k>(i),
// which runs the rule (src/optim/*.rs) on element i: rule(x, g, s) -> Step.

struct Step {
    p: f32,
    s: vec3<f32>,
};

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.n) { return; }
    var k = 0u;
    var start = 0u;
    loop {
        let end = p.ends[k / 4u][k % 4u];
        if (t < end || k + 1u >= p.count) { break; }
        start = end;
        k = k + 1u;
    }
    update(k, t - start);
}
