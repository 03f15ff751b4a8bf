// Matmul for skinny shapes (a side under one tile, as in conv2d's im2col GEMM and its filter
// gradient): one thread per output, no workgroup memory, no barriers. The k range may be split
// over `splits` partial products (grid z = batch * splits), summed afterwards, so a long k
// (e.g. 43264 pixels in a filter gradient) spreads over many threads.

// Params p (MatmulParams) and buffers c, a, b: declared by the prelude (src/ops/matmul.rs).

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.m * p.n) { return; }
    let row = t / p.n;
    let col = t % p.n;
    let batch = wid.z / p.splits;
    let split = wid.z % p.splits;
    let k0 = split * p.k_chunk;
    let k1 = min(p.k, k0 + p.k_chunk);
    var ai = batch * p.a_bs + row * p.a_rs + k0 * p.a_cs;
    var bi = batch * p.b_bs + k0 * p.b_rs + col * p.b_cs;
    // Unrolled by 4 with independent sums: emulated GPUs (SwiftShader) do not unroll loops
    // themselves, and the loop overhead dominated this kernel there.
    var s0 = 0.0;
    var s1 = 0.0;
    var s2 = 0.0;
    var s3 = 0.0;
    var k = k0;
    loop {
        if (k + 4u > k1) { break; }
        s0 = fma(a[ai], b[bi], s0);
        s1 = fma(a[ai + p.a_cs], b[bi + p.b_rs], s1);
        s2 = fma(a[ai + 2u * p.a_cs], b[bi + 2u * p.b_rs], s2);
        s3 = fma(a[ai + 3u * p.a_cs], b[bi + 3u * p.b_rs], s3);
        ai = ai + 4u * p.a_cs;
        bi = bi + 4u * p.b_rs;
        k = k + 4u;
    }
    loop {
        if (k >= k1) { break; }
        s0 = fma(a[ai], b[bi], s0);
        ai = ai + p.a_cs;
        bi = bi + p.b_rs;
        k = k + 1u;
    }
    c[(wid.z * p.m + row) * p.n + col] = (s0 + s1) + (s2 + s3);
}
