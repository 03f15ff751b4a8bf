// gather along an axis: x viewed as [outer, axis_len, inner], indices flat [count];
// out[o, j, k] = x[o, idx[j], k], or 0 for an index outside [0, axis_len) (as TF.js on GPU).
// Parameters p (GatherParams) and buffers out, x, idx: declared by the prelude (src/ops/gather.rs).

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.outer * p.count * p.inner) { return; }
    let k = t % p.inner;
    let j = (t / p.inner) % p.count;
    let o = t / (p.inner * p.count);
    let a = idx[j];
    if (a < 0 || u32(a) >= p.axis_len) {
        out[t] = 0u;
    } else {
        out[t] = x[(o * p.axis_len + u32(a)) * p.inner + k];
    }
}
