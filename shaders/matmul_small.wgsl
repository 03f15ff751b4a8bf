// Matmul for skinny shapes (a side under one tile, as in conv2d's im2col GEMM and its filter
// gradient): one thread per output, no workgroup memory, no barriers. The k range may be split
// over `splits` partial products (grid z = batch * splits), summed afterwards, so a long k
// (e.g. 43264 pixels in a filter gradient) spreads over many threads.

struct Params {
    m: u32, n: u32, k: u32, _pad: u32,
    a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32,
    a_bs: u32, b_bs: u32, splits: u32, k_chunk: u32,
};

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

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
    var s = 0.0;
    for (var k = k0; k < k1; k = k + 1u) {
        s = fma(a[ai], b[bi], s);
        ai = ai + p.a_cs;
        bi = bi + p.b_rs;
    }
    c[(wid.z * p.m + row) * p.n + col] = s;
}
