// What every matmul kernel is given (prepended to each by src/ops/matmul.rs): sizes, the strides
// through which A and B are read (so transposed operands need no copy), and the split-k of
// matmul_small.wgsl.
struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad0: u32,
    a_rs: u32,   // stride between rows of A (along m)
    a_cs: u32,   // stride between columns of A (along k)
    b_rs: u32,   // along k
    b_cs: u32,   // along n
    a_bs: u32,   // between batches (0 broadcasts one matrix over the batch)
    b_bs: u32,
    splits: u32,   // matmul_small.wgsl: how many k ranges, each summed separately
    k_chunk: u32,  // and the length of each
    {{EXTRA}}
};

@group(0) @binding(0) var<uniform> p: Params;
// Elements are f32, or vec4<f32> for matmul_vec4.wgsl. Kernels built on matmul_vec4 may add
// fields at the end of Params (conv2d: its image geometry).
@group(0) @binding(1) var<storage, read> a: array<{{ELEM}}>;
@group(0) @binding(2) var<storage, read> b: array<{{ELEM}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

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
