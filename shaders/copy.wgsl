// Strided copy of 32-bit words: for each coordinate c of `shape`,
//   dst[dst_off + sum(c[d] * dst_strides[d])] = src[src_off + sum(c[d] * src_strides[d])].
// One kernel serves transpose, slice, broadcast_to, concat and pad: they differ only in strides.
// Parameters p (CopyParams) and buffers dst, src: declared by the prelude (src/ops/copy.rs).

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.n) { return; }
    var rem = i;
    var s = p.src_off;
    var t = p.dst_off;
    var d = p.rank;
    loop {
        if (d == 0u) { break; }
        d = d - 1u;
        let dim = p.shape[d / 4u][d % 4u];
        let c = rem % dim;
        rem = rem / dim;
        s = s + c * p.src_strides[d / 4u][d % 4u];
        t = t + c * p.dst_strides[d / 4u][d % 4u];
    }
    dst[t] = src[s];
}
