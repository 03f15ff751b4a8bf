// Matmul C[b] = A[b] (m x k) * B[b] (k x n), f32, for GPUs emulated on the CPU (SwiftShader,
// lavapipe): no workgroup memory or barriers (they cost more there than re-reading operands from
// the CPU's caches), each thread holding an 8x8 block of C in sixteen vec4 registers and reading
// A and B as vec4s, four k at a time. Per four k that is 16 vec4 loads for 256 multiply-adds,
// against 32 scalar loads for 64 in the 4x4 scalar kernel (matmul_direct.wgsl, the fallback for
// shapes this one cannot read as vec4): 3.3 -> 6.5 GFLOP/s at 1024^3 on SwiftShader.
//
// How each operand is read depends on its layout; src/ops/matmul.rs writes the prelude's Params
// p, buffers c (f32), a and b (vec4<f32>), and the reads:
//   start(r, col, a_base, b_base): a Reader, where this thread's reads of A and B begin;
//   load_a(&reader, kq): a0..a7, a{i} = A[r + i, 4kq .. 4kq + 3] (vec4 along k; a transposed A
//     is read as vec4s along m and regrouped; conv2d reads A through the im2col map);
//   load_b(&reader, kq): b00..b31, b{q}{j} = B[4kq + q, c + 4j .. c + 4j + 3] (vec4 along n; a
//     transposed B is read as vec4s along k and regrouped).
// Rows and columns past the edge read the last valid ones and are not written.

@compute @workgroup_size(8, 8)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    // This thread's C block: rows r .. r + 7, columns col .. col + 7 (a workgroup covers 64x64).
    let r = wid.y * 64u + lid.y * 8u;
    let col = wid.x * 64u + lid.x * 8u;
    let a_base = wid.z * p.a_bs;
    let b_base = wid.z * p.b_bs;
    var reader = start(r, col, a_base, b_base);
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc21 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc31 = vec4<f32>(0.0);
    var acc40 = vec4<f32>(0.0);
    var acc41 = vec4<f32>(0.0);
    var acc50 = vec4<f32>(0.0);
    var acc51 = vec4<f32>(0.0);
    var acc60 = vec4<f32>(0.0);
    var acc61 = vec4<f32>(0.0);
    var acc70 = vec4<f32>(0.0);
    var acc71 = vec4<f32>(0.0);
    for (var kq = 0u; kq < p.k / 4u; kq = kq + 1u) {
        let ta = load_a(&reader, kq);
        let tb = load_b(&reader, kq);
        let a0 = ta[0]; let a1 = ta[1]; let a2 = ta[2]; let a3 = ta[3];
        let a4 = ta[4]; let a5 = ta[5]; let a6 = ta[6]; let a7 = ta[7];
        let b00 = tb[0]; let b01 = tb[1]; let b10 = tb[2]; let b11 = tb[3];
        let b20 = tb[4]; let b21 = tb[5]; let b30 = tb[6]; let b31 = tb[7];
        // k = 4kq + 0
        acc00 = fma(vec4<f32>(a0.x), b00, acc00); acc01 = fma(vec4<f32>(a0.x), b01, acc01);
        acc10 = fma(vec4<f32>(a1.x), b00, acc10); acc11 = fma(vec4<f32>(a1.x), b01, acc11);
        acc20 = fma(vec4<f32>(a2.x), b00, acc20); acc21 = fma(vec4<f32>(a2.x), b01, acc21);
        acc30 = fma(vec4<f32>(a3.x), b00, acc30); acc31 = fma(vec4<f32>(a3.x), b01, acc31);
        acc40 = fma(vec4<f32>(a4.x), b00, acc40); acc41 = fma(vec4<f32>(a4.x), b01, acc41);
        acc50 = fma(vec4<f32>(a5.x), b00, acc50); acc51 = fma(vec4<f32>(a5.x), b01, acc51);
        acc60 = fma(vec4<f32>(a6.x), b00, acc60); acc61 = fma(vec4<f32>(a6.x), b01, acc61);
        acc70 = fma(vec4<f32>(a7.x), b00, acc70); acc71 = fma(vec4<f32>(a7.x), b01, acc71);
        // k = 4kq + 1
        acc00 = fma(vec4<f32>(a0.y), b10, acc00); acc01 = fma(vec4<f32>(a0.y), b11, acc01);
        acc10 = fma(vec4<f32>(a1.y), b10, acc10); acc11 = fma(vec4<f32>(a1.y), b11, acc11);
        acc20 = fma(vec4<f32>(a2.y), b10, acc20); acc21 = fma(vec4<f32>(a2.y), b11, acc21);
        acc30 = fma(vec4<f32>(a3.y), b10, acc30); acc31 = fma(vec4<f32>(a3.y), b11, acc31);
        acc40 = fma(vec4<f32>(a4.y), b10, acc40); acc41 = fma(vec4<f32>(a4.y), b11, acc41);
        acc50 = fma(vec4<f32>(a5.y), b10, acc50); acc51 = fma(vec4<f32>(a5.y), b11, acc51);
        acc60 = fma(vec4<f32>(a6.y), b10, acc60); acc61 = fma(vec4<f32>(a6.y), b11, acc61);
        acc70 = fma(vec4<f32>(a7.y), b10, acc70); acc71 = fma(vec4<f32>(a7.y), b11, acc71);
        // k = 4kq + 2
        acc00 = fma(vec4<f32>(a0.z), b20, acc00); acc01 = fma(vec4<f32>(a0.z), b21, acc01);
        acc10 = fma(vec4<f32>(a1.z), b20, acc10); acc11 = fma(vec4<f32>(a1.z), b21, acc11);
        acc20 = fma(vec4<f32>(a2.z), b20, acc20); acc21 = fma(vec4<f32>(a2.z), b21, acc21);
        acc30 = fma(vec4<f32>(a3.z), b20, acc30); acc31 = fma(vec4<f32>(a3.z), b21, acc31);
        acc40 = fma(vec4<f32>(a4.z), b20, acc40); acc41 = fma(vec4<f32>(a4.z), b21, acc41);
        acc50 = fma(vec4<f32>(a5.z), b20, acc50); acc51 = fma(vec4<f32>(a5.z), b21, acc51);
        acc60 = fma(vec4<f32>(a6.z), b20, acc60); acc61 = fma(vec4<f32>(a6.z), b21, acc61);
        acc70 = fma(vec4<f32>(a7.z), b20, acc70); acc71 = fma(vec4<f32>(a7.z), b21, acc71);
        // k = 4kq + 3
        acc00 = fma(vec4<f32>(a0.w), b30, acc00); acc01 = fma(vec4<f32>(a0.w), b31, acc01);
        acc10 = fma(vec4<f32>(a1.w), b30, acc10); acc11 = fma(vec4<f32>(a1.w), b31, acc11);
        acc20 = fma(vec4<f32>(a2.w), b30, acc20); acc21 = fma(vec4<f32>(a2.w), b31, acc21);
        acc30 = fma(vec4<f32>(a3.w), b30, acc30); acc31 = fma(vec4<f32>(a3.w), b31, acc31);
        acc40 = fma(vec4<f32>(a4.w), b30, acc40); acc41 = fma(vec4<f32>(a4.w), b31, acc41);
        acc50 = fma(vec4<f32>(a5.w), b30, acc50); acc51 = fma(vec4<f32>(a5.w), b31, acc51);
        acc60 = fma(vec4<f32>(a6.w), b30, acc60); acc61 = fma(vec4<f32>(a6.w), b31, acc61);
        acc70 = fma(vec4<f32>(a7.w), b30, acc70); acc71 = fma(vec4<f32>(a7.w), b31, acc71);
    }
    let c_base = wid.z * p.m * p.n;
    var block = array<vec4<f32>, 16>(acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, acc40, acc41, acc50, acc51, acc60, acc61, acc70, acc71);
    for (var i = 0u; i < 8u; i = i + 1u) {
        if (r + i >= p.m) { break; }
        for (var j = 0u; j < 8u; j = j + 1u) {
            if (col + j < p.n) { c[c_base + (r + i) * p.n + col + j] = block[2u * i + j / 4u][j % 4u]; }
        }
    }
}
