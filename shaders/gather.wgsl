// gather along an axis: x viewed as [outer, axis_len, inner], indices flat [count];
// out[o, j, k] = x[o, idx[j], k]. An index outside [0, axis_len) gives 0 and is noted in `checks`
// (what, the index, the axis length), so the next readback fails naming it instead of returning
// values computed from zeros (TF.js's CPU backend throws; a kernel cannot).
// Parameters p (GatherParams), buffers out, x, idx, checks and CHECK_GATHER_INDEX: declared by the
// prelude (src/ops/gather.rs).

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
        atomicStore(&checks[0], CHECK_GATHER_INDEX);
        atomicStore(&checks[1], bitcast<u32>(a));
        atomicStore(&checks[2], p.axis_len);
    } else {
        out[t] = x[(o * p.axis_len + u32(a)) * p.inner + k];
    }
}
