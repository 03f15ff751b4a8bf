// Reference matmul: one thread per output, reading a row of A and a column of B straight from
// global memory. Kept only as the benchmark's baseline for the tiled kernel (same Params).

// Params p (MatmulParams) and buffers c, a, b: declared by the prelude (src/ops/matmul.rs).

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if (row >= p.m || col >= p.n) { return; }
    var s = 0.0;
    for (var k = 0u; k < p.k; k = k + 1u) {
        s = s + a[wid.z * p.a_bs + row * p.a_rs + k * p.a_cs] * b[wid.z * p.b_bs + k * p.b_rs + col * p.b_cs];
    }
    c[wid.z * p.m * p.n + row * p.n + col] = s;
}
