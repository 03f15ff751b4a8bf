// Tiled matmul C[b] = A[b] (m x k) * B[b] (k x n), f32.
// A workgroup of 16x16 threads computes a 64x64 tile of C; each thread a 4x4 block held in four
// vec4 registers. K advances 16 at a time through workgroup memory tiles stored as vec4 along m
// (for A) and n (for B), so the inner loop is 8 vec4 loads and 4 vec4 FMAs per step.
// A and B are read through (row, col, batch) strides, so transposed operands need no copy.

// Params p (MatmulParams) and buffers c, a, b: declared by the prelude (src/ops/matmul.rs).

const TILE: u32 = 64u;
const TK: u32 = 16u;
// As[kk * 16 + i] holds A rows 4i..4i+3 of the tile at depth kk; Bs likewise for B columns.
var<workgroup> As: array<vec4<f32>, 256>;
var<workgroup> Bs: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    let a_base = wid.z * p.a_bs;
    let b_base = wid.z * p.b_bs;
    let tid = lid.y * 16u + lid.x;

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < p.k; k0 = k0 + TK) {
        // 64x16 A values and 16x64 B values, 4 of each per thread.
        for (var l = 0u; l < 4u; l = l + 1u) {
            let e = tid + l * 256u;
            // Consecutive threads walk A's contiguous direction: k for row-major A, m for a
            // transposed one (a_cs != 1), so global loads stay coalesced either way.
            var am = e / TK;
            var ak = e % TK;
            if (p.a_cs != 1u) {
                am = e % TILE;
                ak = e / TILE;
            }
            var av = 0.0;
            if (row0 + am < p.m && k0 + ak < p.k) {
                av = a[a_base + (row0 + am) * p.a_rs + (k0 + ak) * p.a_cs];
            }
            As[ak * 16u + am / 4u][am % 4u] = av;
            // Likewise for B: n when row-major, k when transposed.
            var bk = e / TILE;
            var bn = e % TILE;
            if (p.b_cs != 1u) {
                bk = e % TK;
                bn = e / TK;
            }
            var bv = 0.0;
            if (k0 + bk < p.k && col0 + bn < p.n) {
                bv = b[b_base + (k0 + bk) * p.b_rs + (col0 + bn) * p.b_cs];
            }
            Bs[bk * 16u + bn / 4u][bn % 4u] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk = kk + 1u) {
            let av = As[kk * 16u + lid.y];
            let bv = Bs[kk * 16u + lid.x];
            acc0 = fma(vec4<f32>(av.x), bv, acc0);
            acc1 = fma(vec4<f32>(av.y), bv, acc1);
            acc2 = fma(vec4<f32>(av.z), bv, acc2);
            acc3 = fma(vec4<f32>(av.w), bv, acc3);
        }
        workgroupBarrier();
    }

    let c_base = wid.z * p.m * p.n;
    let r = row0 + lid.y * 4u;
    let col = col0 + lid.x * 4u;
    store_4x4(c_base, r, col, array<vec4<f32>, 4>(acc0, acc1, acc2, acc3));
}
