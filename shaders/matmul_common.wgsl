// Shared by the matmul kernels, after the prelude that src/ops/matmul.rs writes (Params p,
// MatmulParams: sizes, strides, split-k; buffers c (f32), a and b (f32, or vec4<f32> for
// matmul_vec4.wgsl)).

// Writes a thread's 4x4 block of C (rows r.., columns col..; rows as vec4s), skipping what lies
// past the edge: the end of the 4x4 kernels (matmul.wgsl, matmul_direct.wgsl).
fn store_4x4(c_base: u32, r: u32, col: u32, rows: array<vec4<f32>, 4>) {
    for (var i = 0u; i < 4u; i = i + 1u) {
        if (r + i < p.m) {
            for (var j = 0u; j < 4u; j = j + 1u) {
                if (col + j < p.n) {
                    c[c_base + (r + i) * p.n + col + j] = rows[i][j];
                }
            }
        }
    }
}
