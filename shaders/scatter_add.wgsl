// The gradient of gather: dx viewed as [outer, axis_len, inner], dy as [outer, count, inner];
// dx[o, idx[j], k] += dy[o, j, k], skipping indices outside [0, axis_len). Ids may repeat, so each
// add is a compare-and-swap loop on the float's bits (WGSL has no float atomics). dx starts zeroed.
// Parameters p (GatherParams) and buffers dx, dy, idx: declared by the prelude (src/ops/gather.rs).

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.outer * p.count * p.inner) { return; }
    let k = t % p.inner;
    let j = (t / p.inner) % p.count;
    let o = t / (p.inner * p.count);
    let a = idx[j];
    if (a < 0 || u32(a) >= p.axis_len) { return; }
    let at = (o * p.axis_len + u32(a)) * p.inner + k;
    let add = dy[t];
    var old = atomicLoad(&dx[at]);
    loop {
        let swapped = atomicCompareExchangeWeak(&dx[at], old, bitcast<u32>(bitcast<f32>(old) + add));
        if (swapped.exchanged) { break; }
        old = swapped.old_value;
    }
}
